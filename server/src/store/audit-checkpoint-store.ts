import { and, eq, gt, inArray, sql } from 'drizzle-orm';
import { GENESIS_HASH } from '../domain/audit-chain.ts';
import type { Db, Tx } from './database.ts';
import type { AuditCheckpoint } from '../domain/audit-checkpoint.ts';
import { auditCheckpointLog, auditEvents, auditHeads, auditCheckpoints } from './schema.ts';

export interface CheckpointCandidate {
  workspaceId: string;
  headSeq: number;
  last: { seq: number; at: Date } | undefined;
}

/** Workspaces whose chain has grown since their last checkpoint (or that never had one). */
export async function workspacesWithNewEvents(db: Db): Promise<CheckpointCandidate[]> {
  const rows = await db
    .select({
      workspaceId: auditHeads.workspaceId,
      headSeq: auditHeads.seq,
      lastSeq: auditCheckpoints.seq,
      lastAt: auditCheckpoints.checkpointedAt,
    })
    .from(auditHeads)
    .leftJoin(auditCheckpoints, eq(auditCheckpoints.workspaceId, auditHeads.workspaceId))
    .where(gt(auditHeads.seq, sql`coalesce(${auditCheckpoints.seq}, 0)`));
  return rows.map((row) => ({
    workspaceId: row.workspaceId,
    headSeq: row.headSeq,
    last:
      row.lastSeq === null || row.lastAt === null || row.lastSeq === 0
        ? undefined
        : { seq: row.lastSeq, at: row.lastAt },
  }));
}

/**
 * Takes the workspace's checkpoint row for this transaction, or answers undefined when another
 * server holds it (that server is publishing; this one moves on rather than wait and sign twice).
 * A workspace's first claim makes its row; seq 0 stands for "never checkpointed".
 */
export async function claimCheckpointRow(
  tx: Tx,
  workspaceId: string,
): Promise<{ last: CheckpointCandidate['last'] } | undefined> {
  await tx
    .insert(auditCheckpoints)
    .values({ workspaceId, seq: 0, hash: GENESIS_HASH, checkpointedAt: new Date(0) })
    .onConflictDoNothing();
  const [row] = await tx
    .select()
    .from(auditCheckpoints)
    .where(eq(auditCheckpoints.workspaceId, workspaceId))
    .for('update', { skipLocked: true });
  if (!row) return undefined;
  return { last: row.seq === 0 ? undefined : { seq: row.seq, at: row.checkpointedAt } };
}

/** Moves the workspace's last checkpoint on and keeps the signed one for the SIEM destinations. */
export async function recordCheckpoint(tx: Tx, signed: AuditCheckpoint): Promise<void> {
  await tx
    .update(auditCheckpoints)
    .set({ seq: signed.seq, hash: signed.hash, checkpointedAt: new Date(signed.time) })
    .where(eq(auditCheckpoints.workspaceId, signed.workspaceId));
  await tx
    .insert(auditCheckpointLog)
    .values({ workspaceId: signed.workspaceId, seq: signed.seq, checkpoint: signed })
    .onConflictDoNothing();
}

/** The stored hash of each of these events that is still stored. */
export async function storedHashesAt(
  db: Db,
  workspaceId: string,
  seqs: readonly number[],
): Promise<Map<number, string>> {
  const hashes = new Map<number, string>();
  // In slices, so a long checkpoint file never makes one huge parameter list.
  for (let start = 0; start < seqs.length; start += 1_000) {
    const slice = seqs.slice(start, start + 1_000);
    const rows = await db
      .select({ seq: auditEvents.seq, hash: auditEvents.hash })
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, workspaceId), inArray(auditEvents.seq, slice)));
    for (const row of rows) hashes.set(row.seq, row.hash);
  }
  return hashes;
}
