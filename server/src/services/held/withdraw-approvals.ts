import { withdraw } from '../../domain/approval-lifecycle.ts';
import { lockOpenApprovalsOf, saveTransitions, toDomainApproval } from '../../store/approval-store.ts';
import type { Tx } from '../../store/database.ts';
import { actorJson, type Actor, type AuditAppender } from '../common/index.ts';

/** A change a rollback undid: enough to find the approval that holds it. */
export interface UndoneChange {
  id: string;
  changeSetId: string;
  recordId: string;
}

/**
 * Takes the proposals behind undone changes out of their open approvals, in the caller's
 * transaction (the rollback's), audited per approval. An approval left with nothing to write is
 * withdrawn; the mirror job then clears its shadow values and updates its CRM record.
 * Returns how many approvals changed.
 */
export async function withdrawApprovals(
  tx: Tx,
  audit: AuditAppender,
  input: { workspaceId: string; changes: readonly UndoneChange[]; actor: Actor; reason: string; now: Date },
): Promise<number> {
  const undone = new Set(input.changes.map((change) => change.id));
  const open = await lockOpenApprovalsOf(
    tx,
    input.workspaceId,
    [...new Set(input.changes.map((change) => change.changeSetId))],
    [...new Set(input.changes.map((change) => change.recordId))],
  );
  let changed = 0;
  for (const stored of open) {
    const properties = stored.items
      .filter((item) => undone.has(item.changeId) && item.status !== 'rejected')
      .map((item) => item.property);
    if (properties.length === 0) continue;
    const next = withdraw(toDomainApproval(stored), properties);
    const settled = next.status !== stored.status;
    await saveTransitions(tx, [
      { stored, next, change: settled ? { decidedAt: input.now, message: input.reason } : {} },
    ]);
    audit.append({
      type: 'approval.withdrawn',
      actor: actorJson(input.actor),
      agentId: stored.agentId,
      batchId: stored.batchId,
      changeSetId: stored.changeSetId,
      objectType: stored.objectType,
      recordId: stored.recordId,
      policyVersion: stored.policyVersion,
      data: { approvalId: stored.id, properties, status: next.status, reason: input.reason },
    });
    changed += 1;
  }
  return changed;
}
