import { lockExpiredPending, markExpired, workspacesWithExpiredPending } from '../../store/approval-store.ts';
import { type ServiceDeps, withAuditChain } from '../common/index.ts';

const SWEEP = { type: 'system', name: 'approval-expiry' } as const;
const BATCH = 500;

/**
 * Expires pending approvals past their expiry, one workspace at a time, audited one event per
 * approval. Rows a decision holds locked are skipped (it will see the expiry itself, or this
 * runs again); nothing else moves, so running it twice is harmless. Returns how many expired.
 */
export async function sweepExpiredApprovals(deps: ServiceDeps, now: Date): Promise<number> {
  let expired = 0;
  for (const workspaceId of await workspacesWithExpiredPending(deps.db, now)) {
    for (;;) {
      const count = await withAuditChain(
        deps.db,
        workspaceId,
        () => now,
        async (tx, audit) => {
          const rows = await lockExpiredPending(tx, workspaceId, now, BATCH);
          await markExpired(
            tx,
            rows.map((row) => row.id),
            now,
          );
          for (const row of rows) {
            audit.append({
              type: 'approval.expired',
              actor: SWEEP,
              agentId: row.agentId,
              batchId: row.batchId,
              changeSetId: row.changeSetId,
              objectType: row.objectType,
              recordId: row.recordId,
              policyVersion: row.policyVersion,
              data: { approvalId: row.id, expiresAt: row.expiresAt.toISOString() },
            });
          }
          return rows.length;
        },
      );
      expired += count;
      if (count < BATCH) break;
    }
  }
  return expired;
}
