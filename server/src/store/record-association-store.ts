import { and, asc, count, eq, gte, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { ReasonCode } from '../../../shared/reason-codes.ts';
import type { RollbackSelector } from '../../../shared/rollback-api.ts';
import type { Db, Tx } from './database.ts';
import { changeSets, recordAssociations } from './schema.ts';

export type RecordAssociationRow = typeof recordAssociations.$inferSelect;

/** Rows per insert statement: 18 parameters each stay well under Postgres's 65,535. */
const ROWS_PER_INSERT = 1_000;

export async function insertRecordAssociations(tx: Tx, rows: readonly RecordAssociationRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT)
    await tx.insert(recordAssociations).values(rows.slice(start, start + ROWS_PER_INSERT));
}

export async function listRecordAssociations(
  db: Db | Tx,
  workspaceId: string,
  changeSetId: string,
): Promise<RecordAssociationRow[]> {
  return db
    .select()
    .from(recordAssociations)
    .where(and(eq(recordAssociations.workspaceId, workspaceId), eq(recordAssociations.changeSetId, changeSetId)))
    .orderBy(asc(recordAssociations.ordinal));
}

/** One association of a change set, as a decision on it reads it back: its own row, whatever the change set's size. */
export async function findRecordAssociation(
  db: Db | Tx,
  query: { workspaceId: string; changeSetId: string; id: string },
): Promise<RecordAssociationRow | undefined> {
  const [row] = await db
    .select()
    .from(recordAssociations)
    .where(
      and(
        eq(recordAssociations.workspaceId, query.workspaceId),
        eq(recordAssociations.changeSetId, query.changeSetId),
        eq(recordAssociations.id, query.id),
      ),
    );
  return row;
}

export type AssociationOutcome =
  | { id: string; alreadyLinked: boolean }
  | {
      id: string;
      reason: Extract<ReasonCode, 'crm_rejected' | 'crm_unavailable' | 'kill_switch_engaged'>;
      message: string;
      /** Set for one a person approved that failed for now: it stays `applying`, tried again then. */
      retryAt?: Date;
    };

/**
 * Settles associations still `applying` once the CRM answered: `applied` (noting a link the CRM
 * already had), `failed` with the reason, or, given a retryAt, still `applying` with the CRM's
 * message. Returns the rows it settled: none another writer settled.
 */
export async function settleRecordAssociations(
  tx: Tx,
  changeSetId: string,
  outcomes: readonly AssociationOutcome[],
): Promise<RecordAssociationRow[]> {
  const settled: RecordAssociationRow[] = [];
  for (const outcome of outcomes) {
    const reason = 'alreadyLinked' in outcome ? (outcome.alreadyLinked ? 'value_unchanged' : null) : outcome.reason;
    const updated = await tx
      .update(recordAssociations)
      .set({
        ...('alreadyLinked' in outcome
          ? { decision: 'applied' as const, alreadyLinked: outcome.alreadyLinked, message: null }
          : { decision: outcome.retryAt ? ('applying' as const) : ('failed' as const), message: outcome.message }),
        ...(reason && !('retryAt' in outcome && outcome.retryAt)
          ? { reasons: sql`array_append(${recordAssociations.reasons}, ${reason})` }
          : {}),
      })
      .where(
        and(
          eq(recordAssociations.id, outcome.id),
          eq(recordAssociations.changeSetId, changeSetId),
          eq(recordAssociations.decision, 'applying'),
        ),
      )
      .returning();
    settled.push(...updated);
  }
  return settled;
}

/** Stores what the CRM had before the links are sent: recovery tells its own links from the CRM's by it. */
export async function recordLinksBefore(
  tx: Tx,
  changeSetId: string,
  before: readonly { id: string; alreadyLinked: boolean }[],
): Promise<void> {
  for (const alreadyLinked of [true, false]) {
    const ids = before.filter((row) => row.alreadyLinked === alreadyLinked).map((row) => row.id);
    if (ids.length > 0)
      await tx
        .update(recordAssociations)
        .set({ alreadyLinked })
        .where(and(eq(recordAssociations.changeSetId, changeSetId), inArray(recordAssociations.id, ids)));
  }
}

/** Associations a rollback selector picks that made a link (not one the CRM already had), handled or not. */
function selectedAssociationsWhere(workspaceId: string, selector: RollbackSelector): SQL {
  const conditions: SQL[] = [
    eq(recordAssociations.workspaceId, workspaceId),
    eq(changeSets.workspaceId, workspaceId),
    eq(recordAssociations.decision, 'applied'),
    eq(recordAssociations.alreadyLinked, false),
  ];
  if (selector.batchId !== undefined) conditions.push(eq(changeSets.batchId, selector.batchId));
  if (selector.agentId !== undefined) conditions.push(eq(changeSets.agentId, selector.agentId));
  if (selector.since !== undefined) conditions.push(gte(changeSets.createdAt, new Date(selector.since)));
  if (selector.until !== undefined) conditions.push(lt(changeSets.createdAt, new Date(selector.until)));
  if (selector.changeIds !== undefined) conditions.push(inArray(recordAssociations.id, selector.changeIds));
  if (selector.recordIds !== undefined) conditions.push(inArray(recordAssociations.recordId, selector.recordIds));
  return and(...conditions)!;
}

export async function countSelectedAssociations(
  db: Db | Tx,
  query: { workspaceId: string; selector: RollbackSelector },
): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(recordAssociations)
    .innerJoin(changeSets, eq(changeSets.id, recordAssociations.changeSetId))
    .where(and(selectedAssociationsWhere(query.workspaceId, query.selector), isNull(recordAssociations.rolledBackBy)));
  return row?.n ?? 0;
}

/** The next `limit` selected associations no rollback has handled yet, oldest first. */
export async function nextSelectedAssociations(
  db: Db | Tx,
  query: { workspaceId: string; selector: RollbackSelector; limit: number },
): Promise<RecordAssociationRow[]> {
  const rows = await db
    .select({ association: recordAssociations })
    .from(recordAssociations)
    .innerJoin(changeSets, eq(changeSets.id, recordAssociations.changeSetId))
    .where(and(selectedAssociationsWhere(query.workspaceId, query.selector), isNull(recordAssociations.rolledBackBy)))
    .orderBy(asc(changeSets.createdAt), asc(recordAssociations.ordinal))
    .limit(query.limit);
  return rows.map((row) => row.association);
}

/** What a rollback did with each selected association; a row another run already settled stays as it is. */
export async function markAssociationsRolledBack(
  tx: Tx,
  rollbackId: string,
  outcomes: readonly { id: string; outcome: 'removed' | 'conflict'; message: string | null }[],
): Promise<Set<string>> {
  const marked = new Set<string>();
  for (const outcome of outcomes) {
    const rows = await tx
      .update(recordAssociations)
      .set({ rolledBackBy: rollbackId, rollbackOutcome: outcome.outcome, rollbackMessage: outcome.message })
      .where(and(eq(recordAssociations.id, outcome.id), isNull(recordAssociations.rolledBackBy)))
      .returning({ id: recordAssociations.id });
    for (const row of rows) marked.add(row.id);
  }
  return marked;
}

export async function countAssociationsRolledBack(
  db: Db | Tx,
  rollbackId: string,
): Promise<{ removed: number; conflict: number }> {
  const rows = await db
    .select({ outcome: recordAssociations.rollbackOutcome, n: count() })
    .from(recordAssociations)
    .where(eq(recordAssociations.rolledBackBy, rollbackId))
    .groupBy(recordAssociations.rollbackOutcome);
  const counts = { removed: 0, conflict: 0 };
  for (const row of rows) if (row.outcome) counts[row.outcome] = row.n;
  return counts;
}

/** Those of `ids` that are associations of the workspace, locked in id order for a decision until the transaction ends. */
export async function lockRecordAssociations(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<(RecordAssociationRow & { batchId: string; agentId: string; delegationId: string | null })[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .select({
      association: recordAssociations,
      batchId: changeSets.batchId,
      agentId: changeSets.agentId,
      delegationId: changeSets.delegationId,
    })
    .from(recordAssociations)
    .innerJoin(changeSets, eq(changeSets.id, recordAssociations.changeSetId))
    .where(and(eq(recordAssociations.workspaceId, workspaceId), inArray(recordAssociations.id, [...ids])))
    .orderBy(asc(recordAssociations.id))
    .for('update', { of: recordAssociations });
  return rows.map((row) => ({
    ...row.association,
    batchId: row.batchId,
    agentId: row.agentId,
    delegationId: row.delegationId,
  }));
}

export async function updateRecordAssociation(
  tx: Tx,
  id: string,
  set: Partial<Pick<RecordAssociationRow, 'decision' | 'approvedBy' | 'message' | 'decidedAt'>>,
): Promise<void> {
  await tx.update(recordAssociations).set(set).where(eq(recordAssociations.id, id));
}
