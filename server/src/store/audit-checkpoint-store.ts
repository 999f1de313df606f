import { and, eq, inArray, sql } from 'drizzle-orm';
import { GENESIS_HASH } from '../domain/audit-chain.ts';
import type { Db, Tx } from './database.ts';
import type { AuditCheckpoint } from '../domain/audit-checkpoint.ts';
import { auditCheckpointLog, auditEvents, auditCheckpoints } from './schema.ts';

/** A workspace's chain head and the checkpoints logged for it last, newest first, as stored. */
export interface CheckpointCandidate {
  workspaceId: string;
  headSeq: number;
  recent: unknown[];
}

/**
 * Every workspace with events, or just this one, with its newest logged checkpoints (`depth` of
 * them, newest first). Whether a checkpoint is due is read from signed lines, not from a row the
 * database's owner could move on.
 */
export async function checkpointCandidates(
  db: Db | Tx,
  { workspaceId, depth }: { workspaceId?: string; depth: number },
): Promise<CheckpointCandidate[]> {
  const result = await db.execute(sql`
    select h.workspace_id as "workspaceId", h.seq::float8 as "headSeq",
      coalesce((select json_agg(l.checkpoint) from (
        select checkpoint from audit_checkpoint_log
        where workspace_id = h.workspace_id order by seq desc limit ${depth}) l), '[]') as recent
    from audit_heads h
    where h.seq > 0 ${workspaceId === undefined ? sql`` : sql`and h.workspace_id = ${workspaceId}`}`);
  // node-postgres and PGlite both answer with `rows`.
  return (result as unknown as { rows: CheckpointCandidate[] }).rows;
}

/**
 * Takes the workspace's checkpoint row for this transaction, or answers false when another server
 * holds it (that server is publishing; this one moves on rather than wait and sign twice).
 */
export async function claimCheckpointRow(tx: Tx, workspaceId: string): Promise<boolean> {
  await tx
    .insert(auditCheckpoints)
    .values({ workspaceId, seq: 0, hash: GENESIS_HASH, checkpointedAt: new Date(0) })
    .onConflictDoNothing();
  const [row] = await tx
    .select({ workspaceId: auditCheckpoints.workspaceId })
    .from(auditCheckpoints)
    .where(eq(auditCheckpoints.workspaceId, workspaceId))
    .for('update', { skipLocked: true });
  return row !== undefined;
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
