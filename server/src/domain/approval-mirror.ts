/**
 * What the CRM shows of approvals (issue 5), pure: the proposed (shadow) value beside each held
 * property, the record's count of pending approvals, and the approval object's fields, for a
 * record's held writes and for a held draft alike. The job that writes them lives in
 * services/held/approval-mirror.ts.
 */
import type { ACTION_STATUS_NAMES } from '../../../shared/action-api.ts';
import type { Policy } from '../../../shared/policy.ts';
import type { ApprovalStatus } from './approval-lifecycle.ts';

export const SHADOW_PREFIX = 'ag_proposed_';
export const PENDING_COUNT_PROPERTY = 'ag_pending_approvals';

/** HubSpot caps internal property names at 100 characters; a longer one gets no shadow. */
const MAX_PROPERTY_NAME = 100;

export function shadowPropertyName(property: string): string | undefined {
  const name = `${SHADOW_PREFIX}${property}`;
  return name.length <= MAX_PROPERTY_NAME ? name : undefined;
}

/**
 * Properties a policy can hold for approval: every property some role may write at all, since
 * conditions raise `auto` to `approval` (they never lower a tier, so `deny` stays denied).
 */
export function holdableProperties(policy: Pick<Policy, 'objects'>): Map<string, string[]> {
  const byObject = new Map<string, string[]>();
  for (const [objectType, objectPolicy] of Object.entries(policy.objects)) {
    const properties = Object.entries(objectPolicy?.properties ?? {})
      .filter(([, tiers]) => Object.values(tiers).some((tier) => tier !== 'deny'))
      .map(([property]) => property);
    if (properties.length > 0) byObject.set(objectType, properties.sort());
  }
  return byObject;
}

/**
 * Properties `next` can hold that `previous` could not, by object type, leaving out names too
 * long for a shadow: each needs its proposed-value property, which only bootstrap creates.
 */
export function newlyHeldProperties(
  previous: Pick<Policy, 'objects'> | undefined,
  next: Pick<Policy, 'objects'>,
): Record<string, string[]> {
  const before = previous ? holdableProperties(previous) : new Map<string, string[]>();
  const added: Record<string, string[]> = {};
  for (const [objectType, properties] of holdableProperties(next)) {
    const fresh = properties.filter(
      (property) => !(before.get(objectType) ?? []).includes(property) && shadowPropertyName(property) !== undefined,
    );
    if (fresh.length > 0) added[objectType] = fresh;
  }
  return added;
}

export interface MirroredItem {
  property: string;
  beforeValue: string | null;
  proposedValue: string | null;
  edited: boolean;
  editedValue: string | null;
  status: 'pending' | 'approved' | 'rejected';
}

export interface MirroredApproval {
  id: string;
  status: ApprovalStatus;
  createdAt: Date;
  items: readonly MirroredItem[];
}

/**
 * A record's shadow values for `properties`: the proposal of the newest pending approval that
 * still holds the property, or '' to clear it; and how many approvals on it are pending, held
 * drafts included (a rep filtering on the count looks for anything waiting for a person).
 * Only properties the CRM has (`existing`) are written, so a missing shadow never fails a batch.
 */
export function recordShadowValues(
  pending: readonly MirroredApproval[],
  pendingDrafts: number,
  properties: Iterable<string>,
  existing: ReadonlySet<string>,
): Record<string, string> {
  const newestFirst = [...pending]
    .filter((approval) => approval.status === 'pending')
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const values: Record<string, string> = {};
  for (const property of properties) {
    const name = shadowPropertyName(property);
    if (name === undefined || !existing.has(name)) continue;
    const holding = newestFirst
      .flatMap((approval) => approval.items)
      .find((item) => item.property === property && item.status === 'pending');
    values[name] = holding?.proposedValue ?? '';
  }
  if (existing.has(PENDING_COUNT_PROPERTY)) values[PENDING_COUNT_PROPERTY] = String(newestFirst.length + pendingDrafts);
  return values;
}

export interface ApprovalObjectInput extends MirroredApproval {
  agentName: string;
  objectType: string;
  recordId: string;
  expiresAt: Date;
  decidedAt: Date | null;
  decidedBy: readonly string[];
  message: string | null;
  evidence: { source?: string; url?: string; confidence?: number; reason?: string } | undefined;
}

const SUMMARY_LIMIT = 250;
const DIFF_LIMIT = 65_000;

/** The approval object's property values; our database stays the source of truth. */
export function approvalObjectValues(approval: ApprovalObjectInput): Record<string, string> {
  const changes = approval.items.map(
    (item) => `${item.property}: ${show(item.beforeValue)} → ${show(item.proposedValue)}`,
  );
  const diff = approval.items.map((item) => {
    const edit = item.edited ? `, edited to ${show(item.editedValue)}` : '';
    return `${item.property}: ${show(item.beforeValue)} → ${show(item.proposedValue)}${edit} (${item.status})`;
  });
  return {
    ag_summary: clip(`${approval.agentName} proposes ${changes.join('; ')}`, SUMMARY_LIMIT),
    ag_status: approval.status,
    ag_agent: approval.agentName,
    ag_record: `${approval.objectType}/${approval.recordId}`,
    ag_diff: clip(diff.join('\n'), DIFF_LIMIT),
    ag_confidence: approval.evidence?.confidence === undefined ? '' : String(approval.evidence.confidence),
    ag_evidence_url: approval.evidence?.url ?? '',
    ag_reason: clip(approval.evidence?.reason ?? '', DIFF_LIMIT),
    ag_expires_at: approval.expiresAt.toISOString(),
    ag_decided_by: approval.decidedBy.join(';'),
    ag_decided_at: approval.decidedAt?.toISOString() ?? '',
    ag_outcome: clip(approval.message ?? '', DIFF_LIMIT),
  };
}

type DraftStatus = (typeof ACTION_STATUS_NAMES)[number];

/**
 * A held draft's status in the approval's terms, so one status set serves the approval object
 * and the approvals listing: released but not carried out (or the send failed) is `approved`;
 * created, sent or sent-then-bounced is `applied`; stopped by a stop rule is `stale` (the
 * contact changed since the proposal, as a person's edit makes a held write stale). A held draft
 * is never `refused`; were one, it would read as rejected.
 */
export function draftApprovalStatus(status: DraftStatus): ApprovalStatus {
  switch (status) {
    case 'pending':
      return 'pending';
    case 'released':
    case 'failed':
      return 'approved';
    case 'completed':
    case 'sent':
    case 'bounced':
      return 'applied';
    case 'stopped':
      return 'stale';
    case 'expired':
      return 'expired';
    case 'rejected':
    case 'refused':
      return 'rejected';
  }
}

export interface DraftObjectInput {
  kind: 'send_email' | 'create_task' | 'create_note';
  status: DraftStatus;
  agentName: string;
  objectType: string;
  recordId: string;
  expiresAt: Date | null;
  decidedAt: Date | null;
  decidedBy: readonly string[];
  message: string | null;
  proposed: Readonly<Record<string, string>>;
  edited: Readonly<Record<string, string>> | null;
  evidence: { url?: string; confidence?: number; reason?: string } | undefined;
  outcomes: readonly { outcome: string; providerMessageId: string | null; detail: string | null }[];
}

const DRAFT_NOUN: Record<DraftObjectInput['kind'], string> = {
  send_email: 'an email',
  create_task: 'a task',
  create_note: 'a note',
};

/** A held draft's approval-object values: the same properties as a record's held writes, the draft's text as the diff. */
export function draftObjectValues(draft: DraftObjectInput): Record<string, string> {
  const about =
    draft.kind === 'send_email'
      ? ` to ${draft.proposed['to'] ?? ''}: "${draft.proposed['subject'] ?? ''}"`
      : `: "${draft.proposed['subject'] ?? draft.proposed['body'] ?? ''}"`;
  const edits = Object.entries(draft.edited ?? {}).filter(([field, value]) => draft.proposed[field] !== value);
  const diff = [
    ...Object.entries(draft.proposed).map(([field, value]) => `${field}: ${value}`),
    ...(edits.length > 0
      ? ['', 'Edited before approval:', ...edits.map(([field, value]) => `${field}: ${value}`)]
      : []),
  ];
  const outcomes = draft.outcomes.map(
    (outcome) =>
      `Reported ${outcome.outcome}${outcome.providerMessageId ? ` (provider message id ${outcome.providerMessageId})` : ''}${outcome.detail ? `: ${outcome.detail}` : ''}`,
  );
  return {
    ag_summary: clip(`${draft.agentName} proposes ${DRAFT_NOUN[draft.kind]}${about}`, SUMMARY_LIMIT),
    ag_status: draftApprovalStatus(draft.status),
    ag_agent: draft.agentName,
    ag_record: `${draft.objectType}/${draft.recordId}`,
    ag_diff: clip(diff.join('\n'), DIFF_LIMIT),
    ag_confidence: draft.evidence?.confidence === undefined ? '' : String(draft.evidence.confidence),
    ag_evidence_url: draft.evidence?.url ?? '',
    ag_reason: clip(draft.evidence?.reason ?? '', DIFF_LIMIT),
    ag_expires_at: draft.expiresAt?.toISOString() ?? '',
    ag_decided_by: draft.decidedBy.join(';'),
    ag_decided_at: draft.decidedAt?.toISOString() ?? '',
    // The status options are the approvals'; the draft's own status says more (sent, bounced, stopped...).
    ag_outcome: clip([`Draft ${draft.status}.`, draft.message, ...outcomes].filter(Boolean).join('\n'), DIFF_LIMIT),
  };
}

function show(value: string | null): string {
  return value === null || value === '' ? '(empty)' : JSON.stringify(value);
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
