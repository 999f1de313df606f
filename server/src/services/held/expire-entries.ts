import { expireHeldEntries, type HeldEntryTable, workspacesWithExpiredEntries } from '../../store/held-entry-store.ts';
import { type ServiceDeps, withAuditChain } from '../common/index.ts';

const SWEEP = { type: 'system', name: 'approval-expiry' } as const;
const BATCH = 500;

/** Each kind of held entry: its table and the audit event of its expiry. */
const KINDS: readonly { table: HeldEntryTable; event: string }[] = [
  { table: 'record_creations', event: 'record.create_expired' },
  { table: 'record_associations', event: 'record.associate_expired' },
];

/**
 * Expires held creations and associations past their expiry (the policy's approvals.expiryHours,
 * set when they were held), as sweepExpiredApprovals does for approvals: one workspace at a time,
 * one audit event per entry, rows a decision holds skipped. An expired entry is refused for good
 * (`denied`, reason `approval_expired`), so the agent may propose it again. Returns how many expired.
 */
export async function sweepExpiredEntries(deps: ServiceDeps, now: Date): Promise<number> {
  let expired = 0;
  for (const { table, event } of KINDS) {
    for (const workspaceId of await workspacesWithExpiredEntries(deps.db, table, now)) {
      for (;;) {
        const count = await withAuditChain(
          deps.db,
          workspaceId,
          () => now,
          async (tx, audit) => {
            const rows = await expireHeldEntries(tx, table, { workspaceId, now, limit: BATCH });
            for (const row of rows) {
              audit.append({
                type: event,
                actor: SWEEP,
                agentId: row.agentId,
                batchId: row.batchId,
                changeSetId: row.changeSetId,
                objectType: row.objectType,
                recordId: row.recordId,
                policyVersion: row.policyVersion,
                data: { changeId: row.id, expiresAt: new Date(row.expiresAt).toISOString() },
              });
            }
            return rows.length;
          },
        );
        expired += count;
        if (count < BATCH) break;
      }
    }
  }
  return expired;
}
