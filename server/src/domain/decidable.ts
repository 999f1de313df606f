import type { Caller, DecisionRefusalCode } from '../../../shared/extension-api.ts';
import { mayDecide } from './approval-lifecycle.ts';

export type Decidable = { ok: true } | { ok: false; code: DecisionRefusalCode };

/**
 * Whether the HubSpot app should offer this person a decision on a held approval or draft: the
 * rules that depend only on who asks (role, record owner, the agent's own principal, a second
 * approval by the same person). The state machine still has the last word when they decide.
 */
export function decidableBy(
  caller: Caller,
  held: { recordOwnerId: string | null; delegatedUserId: string | null; approvedBy: readonly string[] },
): Decidable {
  const allowed = mayDecide(held, { userId: caller.userId, role: caller.permissions.role, ownerId: caller.ownerId });
  if (!allowed.ok) return { ok: false, code: allowed.code as 'role_cannot_decide' | 'not_record_owner' };
  if (held.delegatedUserId === caller.userId) return { ok: false, code: 'delegated_user_cannot_approve' };
  if (held.approvedBy.includes(caller.userId)) return { ok: false, code: 'already_approved_by_this_person' };
  return { ok: true };
}

/** The same for an approval, whose approvers are recorded per property: anyone who approved one counts. */
export function decidableApproval(
  caller: Caller,
  approval: {
    recordOwnerId: string | null;
    delegatedUserId: string | null;
    items: readonly { approvedBy: readonly string[] }[];
  },
): Decidable {
  return decidableBy(caller, { ...approval, approvedBy: approval.items.flatMap((item) => item.approvedBy) });
}
