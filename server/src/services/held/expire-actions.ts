import { lockExpiredDrafts, markDraftsExpired, workspacesWithExpiredDrafts } from '../../store/action-store.ts';
import { actionEvent } from '../actions/index.ts';
import { type ServiceDeps, withAuditChain } from '../common/index.ts';

const SWEEP = { type: 'system', name: 'approval-expiry' } as const;
const BATCH = 500;

/**
 * Expires held drafts past their expiry (the policy's approvals.expiryHours), as
 * sweepExpiredApprovals does for approvals: one workspace at a time, one audit event per draft,
 * rows a decision holds skipped. Returns how many expired.
 */
export async function sweepExpiredDrafts(deps: ServiceDeps, now: Date): Promise<number> {
  let expired = 0;
  for (const workspaceId of await workspacesWithExpiredDrafts(deps.db, now)) {
    for (;;) {
      const count = await withAuditChain(
        deps.db,
        workspaceId,
        () => now,
        async (tx, audit) => {
          const rows = await lockExpiredDrafts(tx, workspaceId, now, BATCH);
          await markDraftsExpired(
            tx,
            rows.map((row) => row.id),
            now,
          );
          for (const row of rows) {
            audit.append(
              actionEvent(row, {
                type: 'action.expired',
                actor: SWEEP,
                before: { status: 'pending' },
                after: { status: 'expired' },
                data: { expiresAt: row.expiresAt?.toISOString() ?? null },
              }),
            );
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
