import type { CreationDecision } from '../../../../shared/agent-api.ts';
import { mayDecide, type PersonRole } from '../../domain/approval-lifecycle.ts';
import { AppError } from '../../errors.ts';
import { findDelegation } from '../../store/agent-store.ts';
import type { Tx } from '../../store/database.ts';
import { findPerson } from '../../store/people-store.ts';
import type { Actor } from '../common/index.ts';

/** What a held creation or association carries that a person's decision on it reads. */
export interface HeldEntry {
  decision: string;
  tier: string | null;
  expiresAt: Date | null;
  approvedBy: string[];
  delegationId: string | null;
  message: string | null;
}

/**
 * A person's decision on a held creation or association (issue 21), by the approvals' rules: an
 * auditor cannot decide, a rep cannot (the entry has no owner to match), the person the agent
 * acted for cannot approve, nobody approves twice, and `two_person` needs two different people.
 * Returns who decided and the entry's next state: `applying` once approved enough, `denied` when rejected.
 */
export async function decideHeldEntry(
  tx: Tx,
  input: { workspaceId: string; entry: HeldEntry; what: string; request: CreationDecision; now: Date },
): Promise<{
  actor: Actor;
  ready: boolean;
  next: { decision: 'applying' | 'pending_approval' | 'denied'; approvedBy: string[]; message: string | null };
}> {
  const { entry, request, what } = input;
  const person = await findPerson(tx, input.workspaceId, request.actingUserId);
  const refuse = (code: string, message: string, state = false): never => {
    throw new AppError(state ? 'APPROVAL_NOT_DECIDABLE' : 'APPROVAL_DECISION_FORBIDDEN', message, {
      details: { refusal: code },
    });
  };
  if (!person)
    return refuse(
      'person_unknown',
      `CRM user ${request.actingUserId} has no role in this workspace; an admin gives one with PUT /v1/admin/people/:crmUserId.`,
    );
  if (entry.decision !== 'pending_approval')
    refuse('approval_not_pending', `This ${what} is not waiting for a person.`, true);
  if (entry.expiresAt && entry.expiresAt.getTime() <= input.now.getTime())
    refuse(
      'approval_expired',
      `This ${what} waited past the policy’s approval expiry; the agent may propose it again.`,
      true,
    );
  const allowed = mayDecide(
    { recordOwnerId: null },
    { userId: person.crmUserId, role: person.role as PersonRole, ownerId: person.crmOwnerId },
  );
  if (!allowed.ok) refuse(allowed.code, allowed.message);
  if (request.kind === 'approve') {
    const delegation = entry.delegationId ? await findDelegation(tx, input.workspaceId, entry.delegationId) : undefined;
    if (delegation?.crmUserId === request.actingUserId)
      refuse('delegated_user_cannot_approve', 'The person the agent acted for cannot approve its proposal.');
    if (entry.approvedBy.includes(request.actingUserId))
      refuse('already_approved_by_this_person', 'This person already approved it; a second person must.');
  }
  const actor: Actor = {
    type: 'person',
    name: `crm-user:${request.actingUserId}`,
    crmUserId: request.actingUserId,
    role: person.role,
    via: 'admin_api',
  };
  const approvedBy = request.kind === 'approve' ? [...entry.approvedBy, request.actingUserId] : entry.approvedBy;
  const ready = request.kind === 'approve' && approvedBy.length >= (entry.tier === 'two_person' ? 2 : 1);
  return {
    actor,
    ready,
    next: {
      decision: request.kind === 'reject' ? 'denied' : ready ? 'applying' : 'pending_approval',
      approvedBy,
      message:
        request.kind === 'reject' ? `Rejected by CRM user ${request.actingUserId}: ${request.reason}` : entry.message,
    },
  };
}
