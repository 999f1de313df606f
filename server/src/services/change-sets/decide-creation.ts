import type { CreateResult, CreationDecision } from '../../../../shared/agent-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import { mayDecide, type PersonRole } from '../../domain/approval-lifecycle.ts';
import { AppError } from '../../errors.ts';
import { findAgent, findDelegation } from '../../store/agent-store.ts';
import { findChangeSet } from '../../store/change-store.ts';
import { findPerson } from '../../store/people-store.ts';
import {
  listRecordCreations,
  lockRecordCreation,
  updateRecordCreation,
  type RecordCreationRow,
} from '../../store/record-creation-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { creationView } from './change-set-view.ts';
import { createApproved } from './create-records.ts';

/**
 * A person's decision on a held creation (issue 21), by the approvals' rules: an auditor cannot
 * decide, a rep cannot (a record not yet created has no owner), the person the agent acted for
 * cannot approve, nobody approves twice, and `two_person` needs two different people. Once
 * approved, the record is created as an `auto` one would be (kill switch checked first); a
 * rejection refuses it for good. Every decision is audited.
 */
export async function decideCreation(
  deps: ServiceDeps,
  input: { workspace: WorkspaceRow; creationId: string; request: CreationDecision },
): Promise<CreateResult> {
  const { workspace, creationId, request } = input;
  const decided = await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const row = await lockRecordCreation(tx, workspace.id, creationId);
    if (!row) throw new AppError('NOT_FOUND', `There is no creation ${creationId} in this workspace.`);
    const person = await findPerson(tx, workspace.id, request.actingUserId);
    const refuse = (code: string, message: string, state = false): never => {
      throw new AppError(state ? 'APPROVAL_NOT_DECIDABLE' : 'APPROVAL_DECISION_FORBIDDEN', message, {
        details: { refusal: code },
      });
    };
    if (!person)
      refuse(
        'person_unknown',
        `CRM user ${request.actingUserId} has no role in this workspace; an admin gives one with PUT /v1/admin/people/:crmUserId.`,
      );
    if (row.decision !== 'pending_approval')
      refuse('approval_not_pending', 'This creation is not waiting for a person.', true);
    if (row.expiresAt && row.expiresAt.getTime() <= deps.clock().getTime())
      refuse(
        'approval_expired',
        'This creation waited past the policy’s approval expiry; the agent may propose it again.',
        true,
      );
    const allowed = mayDecide(
      { recordOwnerId: null },
      {
        userId: person!.crmUserId,
        role: person!.role as PersonRole,
        ownerId: person!.crmOwnerId,
      },
    );
    if (!allowed.ok) refuse(allowed.code, allowed.message);
    if (request.kind === 'approve') {
      const delegation = row.delegationId ? await findDelegation(tx, workspace.id, row.delegationId) : undefined;
      if (delegation?.crmUserId === request.actingUserId)
        refuse('delegated_user_cannot_approve', 'The person the agent acted for cannot approve its proposal.');
      if (row.approvedBy.includes(request.actingUserId))
        refuse('already_approved_by_this_person', 'This person already approved it; a second person must.');
    }
    const actor: Actor = {
      type: 'person',
      name: `crm-user:${request.actingUserId}`,
      crmUserId: request.actingUserId,
      role: person!.role,
      via: 'admin_api',
    };
    const approvedBy = request.kind === 'approve' ? [...row.approvedBy, request.actingUserId] : row.approvedBy;
    const ready = request.kind === 'approve' && approvedBy.length >= (row.tier === 'two_person' ? 2 : 1);
    const next: Pick<RecordCreationRow, 'decision' | 'approvedBy' | 'message'> = {
      decision: request.kind === 'reject' ? 'denied' : ready ? 'applying' : 'pending_approval',
      approvedBy,
      message:
        request.kind === 'reject' ? `Rejected by CRM user ${request.actingUserId}: ${request.reason}` : row.message,
    };
    await updateRecordCreation(tx, row.id, next);
    audit.append({
      type: request.kind === 'approve' ? 'record.create_approved' : 'record.create_rejected',
      actor: actorJson(actor),
      agentId: row.agentId,
      batchId: row.batchId,
      changeSetId: row.changeSetId,
      objectType: row.objectType,
      data: {
        changeId: row.id,
        approvedBy,
        ...(request.kind === 'reject' ? { reason: request.reason } : { complete: ready }),
      },
    });
    return { row: { ...row, ...next }, actor, ready };
  });

  const { row } = decided;
  if (decided.ready) {
    const [changeSet, agent] = await Promise.all([
      findChangeSet(deps.db, workspace.id, row.changeSetId),
      findAgent(deps.db, workspace.id, row.agentId),
    ]);
    if (!changeSet || !agent)
      throw new AppError('INTERNAL', `Creation ${row.id} names a change set or agent that is gone.`);
    await createApproved(
      deps,
      {
        crm: deps.crmFor(workspace),
        workspace,
        agent,
        actor: decided.actor,
        batchId: row.batchId,
        objectType: row.objectType as ObjectType,
        policyVersion: changeSet.policyVersion,
        changeSetId: row.changeSetId,
        rows: [row],
      },
      async () => true,
    );
  }
  const rows = await listRecordCreations(deps.db, workspace.id, row.changeSetId);
  const changeSet = (await findChangeSet(deps.db, workspace.id, row.changeSetId))!;
  return creationView(
    changeSet,
    rows.filter((stored) => stored.id === row.id),
  ).results[0] as CreateResult;
}
