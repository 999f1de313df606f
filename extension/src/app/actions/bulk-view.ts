import type { BatchDecisionResult } from '../../../../shared/approval-api.ts';
import type { BulkPreview } from '../../../../shared/extension-decisions-api.ts';

/**
 * How the bulk action on an index page reads (issue 8): pure, no React and no SDK. The server
 * decides each approval by its own rules; this says beforehand what will happen and afterwards
 * what did.
 */

const OBJECT_WORDS: Record<BulkPreview['objectType'], [string, string]> = {
  'salesforce:Contact': ['contact', 'contacts'],
  'salesforce:Lead': ['lead', 'leads'],
  'salesforce:Opportunity': ['opportunity', 'opportunities'],
  contacts: ['contact', 'contacts'],
  deals: ['deal', 'deals'],
};

const plural = (count: number, one: string, many: string) =>
  `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;

export interface BulkControls {
  approve: boolean;
  reject: boolean;
  /** Why there are no buttons, or why approving is held back; null when everything may be decided. */
  notice: string | null;
}

export function bulkControls(preview: BulkPreview): BulkControls {
  if (preview.pending === 0) return { approve: false, reject: false, notice: null };
  if (preview.overLimit)
    return {
      approve: false,
      reject: false,
      notice: `More than ${plural(preview.pending, 'proposal', 'proposals')} wait: select fewer records and decide them in parts.`,
    };
  if (preview.caller.permissions.decide === 'none')
    return { approve: false, reject: false, notice: 'Your role can read proposals but not decide them.' };
  if (preview.decidable === 0)
    return {
      approve: false,
      reject: false,
      notice: 'None of these proposals are yours to decide: a rep decides only on records they own.',
    };
  // As on the card: approving while a switch is engaged would write for a stopped agent; rejecting writes nothing.
  if (preview.killSwitches.length > 0)
    return {
      approve: false,
      reject: true,
      notice: 'A kill switch is engaged: approving is paused until it is released.',
    };
  return { approve: true, reject: true, notice: null };
}

/** "7 proposals wait on 3 of the 5 selected contacts." plus how many are drafts, links or new records, and who may decide what. */
export function previewSentence(preview: BulkPreview): string {
  const [one, many] = OBJECT_WORDS[preview.objectType];
  if (preview.pending === 0)
    return `No agent proposal waits on the ${plural(preview.selectedRecords, `selected ${one}`, `selected ${many}`)}.`;
  const kinds = [
    preview.drafts > 0 ? `${plural(preview.drafts, 'is a draft', 'are drafts')} (emails, tasks or notes)` : null,
    preview.heldEntries
      ? `${plural(preview.heldEntries, 'is a link or a new record', 'are links or new records')}`
      : null,
  ].filter((kind) => kind !== null);
  const drafts = kinds.length > 0 ? ` Of these, ${kinds.join(' and ')}.` : '';
  const waiting = `${plural(preview.pending, 'proposal waits', 'proposals wait')} on ${preview.recordsWithPending} of the ${plural(preview.selectedRecords, `selected ${one}`, `selected ${many}`)}.${drafts}`;
  const refused = preview.pending - preview.decidable;
  return refused > 0 && preview.decidable > 0
    ? `${waiting} You may decide ${preview.decidable}; the other ${refused} stay pending for their record owners or an approver.`
    : waiting;
}

const REFUSAL_WORDS: Record<string, string> = {
  not_record_owner: 'on records you do not own',
  role_cannot_decide: 'your role cannot decide',
  delegated_user_cannot_approve: 'drafted for you by the agent',
  already_approved_by_this_person: 'already approved by you, waiting for a second person',
  approval_not_pending: 'decided by someone else meanwhile',
  approval_expired: 'expired',
};

/** The alert after the decision: how many were decided and written, and why the rest were not. */
export function bulkOutcome(
  kind: 'approve' | 'reject',
  result: BatchDecisionResult,
): { type: 'success' | 'warning'; message: string } {
  const { decided, refused, applied } = result.summary;
  const done =
    kind === 'approve'
      ? `${plural(decided, 'proposal', 'proposals')} approved, ${applied} written to the CRM`
      : `${plural(decided, 'proposal', 'proposals')} rejected`;
  if (refused === 0) return { type: 'success', message: `${done}.` };
  const byCode = Map.groupBy(
    result.results.filter((row) => row.refusal),
    (row) => row.refusal?.code ?? 'unknown',
  );
  const why = [...byCode]
    .map(([code, rows]) => `${rows.length} ${REFUSAL_WORDS[code] ?? rows[0]?.refusal?.message ?? code}`)
    .join(', ');
  return { type: 'warning', message: `${done}; ${refused} not decided (${why}).` };
}
