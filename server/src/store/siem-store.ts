import { and, asc, eq, exists, getTableColumns, gt, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { AuditCheckpoint } from '../domain/audit-checkpoint.ts';
import type { ChainedAuditEvent, JsonObject } from '../domain/audit-chain.ts';
import type { StreamedAuditEvent } from '../domain/siem-delivery.ts';
import { CONTENT_COLUMN } from './audit-store.ts';
import type { Db, Tx } from './database.ts';
import { auditCheckpointLog, auditEvents, auditHeads } from './schema.ts';
import { siemDestinations } from './siem-schema.ts';

export type SiemDestinationRow = typeof siemDestinations.$inferSelect;
export type NewSiemDestination = typeof siemDestinations.$inferInsert;

export async function insertSiemDestination(tx: Tx, row: NewSiemDestination): Promise<SiemDestinationRow> {
  const [stored] = await tx.insert(siemDestinations).values(row).returning();
  return stored!;
}

/** The workspace's destinations with its chain head, so a caller can tell how far behind each one is. */
export async function listSiemDestinations(
  db: Db | Tx,
  workspaceId: string,
): Promise<{ destination: SiemDestinationRow; headSeq: number }[]> {
  const rows = await db
    .select({ destination: siemDestinations, headSeq: auditHeads.seq })
    .from(siemDestinations)
    .innerJoin(auditHeads, eq(auditHeads.workspaceId, siemDestinations.workspaceId))
    .where(eq(siemDestinations.workspaceId, workspaceId))
    .orderBy(asc(siemDestinations.name));
  return rows;
}

export async function deleteSiemDestination(
  tx: Tx,
  key: { workspaceId: string; id: string },
): Promise<SiemDestinationRow | undefined> {
  const [row] = await tx
    .delete(siemDestinations)
    .where(and(eq(siemDestinations.workspaceId, key.workspaceId), eq(siemDestinations.id, key.id)))
    .returning();
  return row;
}

/**
 * Takes one destination that is due and has events it has not acknowledged, leasing it to `holder`,
 * with its workspace's chain head as of the claim (how far this claim may send).
 * SKIP LOCKED lets several servers claim different destinations at once; the lease keeps the
 * others off it while the delivery is on the wire, and lapses if this server dies.
 */
export async function claimDueSiemDestination(
  db: Db,
  claim: { holder: string; leaseMs: number; now: Date },
): Promise<{ destination: SiemDestinationRow; headSeq: number } | undefined> {
  return db.transaction(async (tx) => {
    const [due] = await tx
      .select({ id: siemDestinations.id, headSeq: auditHeads.seq })
      .from(siemDestinations)
      .innerJoin(auditHeads, eq(auditHeads.workspaceId, siemDestinations.workspaceId))
      .where(
        and(
          lte(siemDestinations.nextAttemptAt, claim.now),
          or(
            gt(auditHeads.seq, siemDestinations.cursorSeq),
            exists(
              db
                .select({ seq: auditCheckpointLog.seq })
                .from(auditCheckpointLog)
                .where(
                  and(
                    eq(auditCheckpointLog.workspaceId, siemDestinations.workspaceId),
                    gt(auditCheckpointLog.seq, siemDestinations.checkpointCursorSeq),
                  ),
                ),
            ),
          ),
          or(isNull(siemDestinations.leaseExpiresAt), lt(siemDestinations.leaseExpiresAt, claim.now)),
        ),
      )
      .orderBy(asc(siemDestinations.nextAttemptAt))
      .limit(1)
      .for('update', { of: siemDestinations, skipLocked: true });
    if (!due) return undefined;
    const [claimed] = await tx
      .update(siemDestinations)
      .set({ leaseHolder: claim.holder, leaseExpiresAt: new Date(claim.now.getTime() + claim.leaseMs) })
      .where(eq(siemDestinations.id, due.id))
      .returning();
    return { destination: claimed!, headSeq: due.headSeq };
  });
}

/** Up to `limit` events after `afterSeq`, in chain order. */
export async function auditEventsAfter(
  db: Db,
  query: { workspaceId: string; afterSeq: number; limit: number },
): Promise<ChainedAuditEvent[]> {
  const rows = await db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, query.workspaceId), gt(auditEvents.seq, query.afterSeq)))
    .orderBy(asc(auditEvents.seq))
    .limit(query.limit);
  return rows.map((row) => ({
    ...row,
    occurredAt: row.occurredAt.toISOString(),
    actor: row.actor as JsonObject,
    before: row.before as JsonObject | null,
    after: row.after as JsonObject | null,
    evidence: row.evidence as JsonObject | null,
    data: row.data as JsonObject | null,
  }));
}

/**
 * Each event whole, as `audit export` writes it (the table's fields in its order, `hash` last), as
 * JSON text the database writes: the JSON columns as stored, text escaped as JSON.stringify
 * escapes it, the time as toISOString gives it. Parsing five JSON columns per event into objects only
 * to write them out again took most of delivery's CPU time.
 */
const EVENT_JSON = sql`(select row_to_json(event)::text from (select ${sql.join(
  Object.keys(getTableColumns(auditEvents)).map(
    (field) =>
      sql`${field === 'hash' ? sql`e.hash` : CONTENT_COLUMN[field as keyof typeof CONTENT_COLUMN]} as ${sql.identifier(field)}`,
  ),
  sql`, `,
)}) event)`;

/**
 * The events after `afterSeq` up to `uptoSeq`, in chain order, each with its JSON text. A range of
 * seq, not `seq > after … limit`: on a table Postgres has no statistics for yet (a bulk load, a
 * workspace that grew fast), the planner read and sorted every later event for each batch, so
 * streaming a backlog went quadratic (170 ms for one batch of 1,000 halfway through 300,000 events,
 * 1.5 ms as a range).
 */
export async function streamedEventsBetween(
  db: Db,
  query: { workspaceId: string; afterSeq: number; uptoSeq: number },
): Promise<StreamedAuditEvent[]> {
  if (query.uptoSeq <= query.afterSeq) return [];
  const result = await db.execute(sql`
    select e.seq::float8 as seq, e.type, ${CONTENT_COLUMN.occurredAt} as "occurredAt", e.prev_hash as "prevHash",
      e.hash, ${EVENT_JSON} as json
    from audit_events e
    where e.workspace_id = ${query.workspaceId} and e.seq > ${query.afterSeq} and e.seq <= ${query.uptoSeq}
    order by e.seq`);
  // node-postgres and PGlite both answer with `rows`.
  return (result as unknown as { rows: StreamedAuditEvent[] }).rows;
}

/** The signed checkpoints after `afterSeq` up to `uptoSeq` (each signs the chain up to its seq), in seq order. */
export async function checkpointsBetween(
  db: Db,
  query: { workspaceId: string; afterSeq: number; uptoSeq: number },
): Promise<AuditCheckpoint[]> {
  if (query.uptoSeq <= query.afterSeq) return [];
  const rows = await db
    .select({ checkpoint: auditCheckpointLog.checkpoint })
    .from(auditCheckpointLog)
    .where(
      and(
        eq(auditCheckpointLog.workspaceId, query.workspaceId),
        gt(auditCheckpointLog.seq, query.afterSeq),
        lte(auditCheckpointLog.seq, query.uptoSeq),
      ),
    )
    .orderBy(asc(auditCheckpointLog.seq));
  return rows.map((row) => row.checkpoint);
}

const heldBy = (id: string, holder: string) =>
  and(eq(siemDestinations.id, id), eq(siemDestinations.leaseHolder, holder));

/**
 * Moves the cursor to the acknowledged seq, and renews the lease until `leaseExpiresAt` or (null)
 * gives it back; false when the lease was lost
 * (another server took the destination over, and sends from the cursor it finds: a duplicate at most).
 */
export async function recordSiemDelivered(
  db: Db | Tx,
  delivered: {
    id: string;
    holder: string;
    cursorSeq: number;
    checkpointCursorSeq: number;
    now: Date;
    leaseExpiresAt: Date | null;
  },
): Promise<boolean> {
  const rows = await db
    .update(siemDestinations)
    .set({
      cursorSeq: sql`greatest(${siemDestinations.cursorSeq}, ${delivered.cursorSeq})`,
      checkpointCursorSeq: sql`greatest(${siemDestinations.checkpointCursorSeq}, ${delivered.checkpointCursorSeq})`,
      deliveredAt: delivered.now,
      nextAttemptAt: delivered.now,
      attempts: 0,
      failingSince: null,
      lastError: null,
      downRecordedAt: null,
      leaseHolder: delivered.leaseExpiresAt === null ? null : delivered.holder,
      leaseExpiresAt: delivered.leaseExpiresAt,
    })
    .where(heldBy(delivered.id, delivered.holder))
    .returning({ id: siemDestinations.id });
  return rows.length > 0;
}

/** Gives the lease back after a failed attempt; the destination is due again at `nextAttemptAt`. */
export async function recordSiemFailure(
  db: Db | Tx,
  failure: { id: string; holder: string; error: string; now: Date; nextAttemptAt: Date; downRecorded: boolean },
): Promise<void> {
  await db
    .update(siemDestinations)
    .set({
      attempts: sql`${siemDestinations.attempts} + 1`,
      failingSince: sql`coalesce(${siemDestinations.failingSince}, ${failure.now.toISOString()}::timestamptz)`,
      lastError: failure.error,
      nextAttemptAt: failure.nextAttemptAt,
      ...(failure.downRecorded ? { downRecordedAt: failure.now } : {}),
      leaseHolder: null,
      leaseExpiresAt: null,
    })
    .where(heldBy(failure.id, failure.holder));
}
