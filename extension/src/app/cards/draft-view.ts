import type { ActionView } from '../../../../shared/action-api.ts';
import type { EngagedKillSwitch, PendingDraft } from '../../../../shared/extension-api.ts';
import type { ExtensionDraftDecision } from '../../../../shared/extension-decisions-api.ts';
import { draftRefusalSentence } from '../lib/views/decision-controls.ts';

/**
 * How a held draft reads on the record card and what a person may do with it: pure, no React
 * and no SDK, so the renderer tests and a later console can share it. The server decides;
 * this only hides what it would refuse.
 */

export const DRAFT_KIND_LABELS: Record<PendingDraft['kind'], string> = {
  send_email: 'Email',
  create_task: 'Task',
  create_note: 'Note',
};

/** What a person may change before approving, per kind: never the recipient, whose opt-out was checked (the server holds the same rule). */
export const EDITABLE_FIELDS: Record<PendingDraft['kind'], readonly ('subject' | 'body')[]> = {
  send_email: ['subject', 'body'],
  create_task: ['subject', 'body'],
  create_note: ['body'],
};

export interface DraftControls {
  approve: boolean;
  edit: boolean;
  reject: boolean;
  unavailableReason: string | null;
}

/** A switch stops this draft when it stops the whole workspace, the agent that wrote it, or its kind of action. */
export function stoppingSwitch(
  draft: PendingDraft,
  switches: readonly EngagedKillSwitch[],
): EngagedKillSwitch | undefined {
  return switches.find(
    (row) =>
      row.scope === 'workspace' ||
      (row.scope === 'agent' && row.target === draft.agent.id) ||
      (row.scope === 'action' && row.target === draft.kind),
  );
}

export function draftControls(draft: PendingDraft, switches: readonly EngagedKillSwitch[]): DraftControls {
  if (!draft.decidable.ok)
    return {
      approve: false,
      edit: false,
      reject: false,
      unavailableReason: draftRefusalSentence(draft.decidable.code),
    };
  // Releasing while a switch stops it would hand a stopped agent something to send; rejecting releases nothing.
  if (stoppingSwitch(draft, switches))
    return {
      approve: false,
      edit: false,
      reject: true,
      unavailableReason: 'A kill switch stops this draft: approving waits until it is released.',
    };
  return { approve: true, edit: true, reject: true, unavailableReason: null };
}

/** The edits to send: only fields a person changed, none blank; `null` when an edited field was emptied (the server would refuse it). */
export function draftEdits(
  draft: PendingDraft,
  values: Partial<Record<'subject' | 'body', string>>,
): ExtensionDraftDecision | null {
  const edits: Partial<Record<'subject' | 'body', string>> = {};
  for (const field of EDITABLE_FIELDS[draft.kind]) {
    const value = values[field]?.trim();
    // Trimmed on both sides: a body the agent ended with a newline, left as it was, is not an edit.
    if (value === undefined || value === (draft.content[field] ?? '').trim()) continue;
    if (value === '') return null;
    edits[field] = value;
  }
  return Object.keys(edits).length === 0 ? { kind: 'approve' } : { kind: 'approve', edits };
}

/** The alert after a decision: what became of the draft, in the words of its kind. */
export function draftOutcome(view: Pick<ActionView, 'kind' | 'status' | 'message'>): {
  type: 'success' | 'info' | 'warning';
  message: string;
} {
  const what = DRAFT_KIND_LABELS[view.kind];
  switch (view.status) {
    case 'rejected':
      return { type: 'success', message: `${what} draft rejected.` };
    case 'pending':
      return { type: 'info', message: `Your approval is recorded; the ${what.toLowerCase()} needs a second approver.` };
    case 'released':
      return view.kind === 'send_email'
        ? { type: 'success', message: 'Email approved: the agent may now send it.' }
        : { type: 'warning', message: `${what} approved, but not created yet: ${view.message ?? 'try again later.'}` };
    case 'completed':
      return { type: 'success', message: `${what} approved and added to the record.` };
    case 'stopped':
      return { type: 'warning', message: view.message ?? 'Approved, but a stop rule forbids sending it.' };
    default:
      return { type: 'info', message: `${what} is now ${view.status}.` };
  }
}
