/**
 * The approval state machine (issue 5), pure: who may decide, per-property decisions, the
 * two-person rule, expiry and staleness. The service layer stores the state, mirrors it to the
 * CRM and audits each transition; it never decides these rules itself.
 */
import type { APPROVAL_STATUSES } from '../../../shared/approval-api.ts';

export const PERSON_ROLES = ['owner', 'revops_admin', 'approver', 'rep', 'auditor'] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export type ItemStatus = 'pending' | 'approved' | 'rejected';

export interface ApprovalItem {
  property: string;
  proposedValue: string | null;
  /** What a person changed the proposal to before approving; the agent's value stays in proposedValue. */
  editedValue?: string | null;
  status: ItemStatus;
  /** Distinct people who approved this item (two_person needs two). */
  approvedBy: string[];
}

export interface Approval {
  status: ApprovalStatus;
  tier: 'approval' | 'two_person';
  expiresAt: Date;
  /** The CRM owner id of the record (its owner property), for the rule that a rep decides only on records they own. */
  recordOwnerId: string | null;
  /** The person the agent acted for; they never count as an approver of their own agent's change. */
  delegatedUserId: string | null;
  items: ApprovalItem[];
}

export interface Decider {
  userId: string;
  role: PersonRole;
  /** Their owner id in the CRM (records name owners, not users); null when they own nothing. */
  ownerId: string | null;
}

export type DecisionCommand =
  | { kind: 'approve'; by: Decider; properties?: string[]; edits?: Record<string, string | null> }
  | { kind: 'reject'; by: Decider; properties?: string[]; reason: string };

/** Stable refusal codes: the API answers 403 (who) or 409 (state) with them, and audits them. */
export type RefusalCode =
  | 'role_cannot_decide'
  | 'not_record_owner'
  | 'delegated_user_cannot_approve'
  | 'already_approved_by_this_person'
  | 'approval_not_pending'
  | 'approval_expired'
  | 'unknown_property';

export type Transition = { ok: true; approval: Approval } | { ok: false; code: RefusalCode; message: string };

/** Whether this person may decide at all on this approval (roles and ownership, not state). */
export function mayDecide(
  approval: Pick<Approval, 'recordOwnerId'>,
  by: Decider,
): { ok: true } | { ok: false; code: RefusalCode; message: string } {
  switch (by.role) {
    case 'auditor':
      return { ok: false, code: 'role_cannot_decide', message: 'Auditors can read approvals but not decide them.' };
    case 'rep':
      return approval.recordOwnerId !== null && approval.recordOwnerId === by.ownerId
        ? { ok: true }
        : { ok: false, code: 'not_record_owner', message: 'A rep decides only on records they own in the CRM.' };
    case 'owner':
    case 'revops_admin':
    case 'approver':
      return { ok: true };
  }
}

/** Applies one person's decision to the approval, or refuses it with a reason code. */
export function decide(approval: Approval, command: DecisionCommand, now: Date): Transition {
  if (approval.status !== 'pending')
    return refuse('approval_not_pending', `This approval is ${approval.status}; it can no longer be decided.`);
  if (now >= approval.expiresAt)
    return refuse('approval_expired', 'This approval expired before the decision arrived.');
  const allowed = mayDecide(approval, command.by);
  if (!allowed.ok) return allowed;
  const targets =
    command.properties ?? approval.items.filter((item) => item.status === 'pending').map((item) => item.property);
  const unknown = targets.find(
    (property) => !approval.items.some((item) => item.property === property && item.status === 'pending'),
  );
  if (unknown !== undefined)
    return refuse('unknown_property', `There is no pending proposal for ${unknown} in this approval.`);

  if (command.kind === 'reject') {
    return {
      ok: true,
      approval: settle({
        ...approval,
        items: approval.items.map((item) => (targets.includes(item.property) ? { ...item, status: 'rejected' } : item)),
      }),
    };
  }
  if (command.by.userId === approval.delegatedUserId) {
    return refuse('delegated_user_cannot_approve', 'The person this agent acts for cannot approve its changes.');
  }
  const items: ApprovalItem[] = [];
  for (const item of approval.items) {
    if (!targets.includes(item.property)) {
      items.push(item);
      continue;
    }
    if (item.approvedBy.includes(command.by.userId))
      return refuse('already_approved_by_this_person', 'Two-person approval needs a second, different person.');
    const approvedBy = [...item.approvedBy, command.by.userId];
    const edit =
      command.edits && Object.hasOwn(command.edits, item.property)
        ? { editedValue: command.edits[item.property] ?? null }
        : {};
    const needed = approval.tier === 'two_person' ? 2 : 1;
    items.push({ ...item, ...edit, approvedBy, status: approvedBy.length >= needed ? 'approved' : 'pending' });
  }
  return { ok: true, approval: settle({ ...approval, items }) };
}

/** Pending until every item is decided; then approved if any item was approved, else rejected. */
function settle(approval: Approval): Approval {
  if (approval.items.some((item) => item.status === 'pending')) return approval;
  return { ...approval, status: approval.items.some((item) => item.status === 'approved') ? 'approved' : 'rejected' };
}

/**
 * A rollback undid the changes behind some properties: those proposals leave the approval (their
 * items end rejected); with nothing left to write it is withdrawn. Decided approvals are untouched.
 */
export function withdraw(approval: Approval, properties: readonly string[]): Approval {
  if (approval.status !== 'pending' && approval.status !== 'approved') return approval;
  const items = approval.items.map(
    (item): ApprovalItem => (properties.includes(item.property) ? { ...item, status: 'rejected' } : item),
  );
  if (items.every((item) => item.status === 'rejected')) return { ...approval, items, status: 'withdrawn' };
  return approval.status === 'pending' ? settle({ ...approval, items }) : { ...approval, items };
}

/** The sweep's rule: a pending approval past its expiry becomes expired. */
export function expire(approval: Approval, now: Date): Approval {
  return approval.status === 'pending' && now >= approval.expiresAt ? { ...approval, status: 'expired' } : approval;
}

/**
 * Before applying, the service re-reads the record: if a property no longer holds the value it had
 * when the agent proposed (a person changed it), the approval is stale and nothing is overwritten.
 */
export function checkStale(
  approval: Approval,
  before: Readonly<Record<string, string | null>>,
  current: Readonly<Record<string, string | null>>,
): Approval {
  if (approval.status !== 'pending' && approval.status !== 'approved') return approval;
  const changed = approval.items.some(
    (item) => item.status !== 'rejected' && (current[item.property] ?? null) !== (before[item.property] ?? null),
  );
  return changed ? { ...approval, status: 'stale' } : approval;
}

/** The values to write once approved: an edited value wins over the agent's proposal. */
export function valuesToApply(approval: Approval): Record<string, string | null> {
  if (approval.status !== 'approved') return {};
  return Object.fromEntries(
    approval.items
      .filter((item) => item.status === 'approved')
      .map((item) => [item.property, item.editedValue !== undefined ? item.editedValue : item.proposedValue]),
  );
}

function refuse(code: RefusalCode, message: string): Transition {
  return { ok: false, code, message };
}
