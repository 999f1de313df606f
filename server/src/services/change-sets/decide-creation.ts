import type { CreateResult, CreationDecision } from '../../../../shared/agent-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import { AppError } from '../../errors.ts';
import { findAgent } from '../../store/agent-store.ts';
import { findChangeSet } from '../../store/change-store.ts';
import { listRecordCreations, lockRecordCreation, updateRecordCreation } from '../../store/record-creation-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { actorJson, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { creationView } from './change-set-view.ts';
import { createApproved } from './create-records.ts';
import { decideHeldEntry } from './held-entry-decision.ts';

/**
 * A person's decision on a held creation (issue 21), by the approvals' rules (`decideHeldEntry`).
 * Once approved, the record is created as an `auto` one would be (kill switch checked first); a
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
    const { actor, ready, next } = await decideHeldEntry(tx, {
      workspaceId: workspace.id,
      entry: row,
      what: 'creation',
      request,
      now: deps.clock(),
    });
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
        approvedBy: next.approvedBy,
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
