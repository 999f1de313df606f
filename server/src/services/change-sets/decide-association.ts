import type { AssociateResult, CreationDecision } from '../../../../shared/agent-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import { AppError } from '../../errors.ts';
import { findAgent } from '../../store/agent-store.ts';
import { findChangeSet } from '../../store/change-store.ts';
import {
  listRecordAssociations,
  lockRecordAssociation,
  updateRecordAssociation,
} from '../../store/record-association-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { actorJson, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { associateApproved } from './associate-records.ts';
import { associationView } from './change-set-view.ts';
import { decideHeldEntry } from './held-entry-decision.ts';

/**
 * A person's decision on a held association (issue 21), by the approvals' rules, as for a held
 * creation: approved (by two people for `two_person`), the records are linked then (kill switch
 * checked first); a rejection refuses it for good. Every decision is audited.
 */
export async function decideAssociation(
  deps: ServiceDeps,
  input: { workspace: WorkspaceRow; associationId: string; request: CreationDecision },
): Promise<AssociateResult> {
  const { workspace, associationId, request } = input;
  const decided = await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const row = await lockRecordAssociation(tx, workspace.id, associationId);
    if (!row) throw new AppError('NOT_FOUND', `There is no association ${associationId} in this workspace.`);
    const { actor, ready, next } = await decideHeldEntry(tx, {
      workspaceId: workspace.id,
      entry: row,
      what: 'association',
      request,
      now: deps.clock(),
    });
    await updateRecordAssociation(tx, row.id, next);
    audit.append({
      type: request.kind === 'approve' ? 'record.associate_approved' : 'record.associate_rejected',
      actor: actorJson(actor),
      agentId: row.agentId,
      batchId: row.batchId,
      changeSetId: row.changeSetId,
      objectType: row.objectType,
      recordId: row.recordId,
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
      throw new AppError('INTERNAL', `Association ${row.id} names a change set or agent that is gone.`);
    await associateApproved(
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
  const changeSet = (await findChangeSet(deps.db, workspace.id, row.changeSetId))!;
  const rows = await listRecordAssociations(deps.db, workspace.id, row.changeSetId);
  return associationView(
    changeSet,
    rows.filter((stored) => stored.id === row.id),
  ).results[0] as AssociateResult;
}
