import { and, asc, count, eq, gte, inArray, isNotNull, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { ReasonCode } from '../../../shared/reason-codes.ts';
import type { RollbackSelector } from '../../../shared/rollback-api.ts';
import type { Db, Tx } from './database.ts';
import { changeSets, recordCreations } from './schema.ts';

export type RecordCreationRow = typeof recordCreations.$inferSelect;

/** Rows per insert statement: 13 parameters each stay well under Postgres's 65,535. */
const ROWS_PER_INSERT = 1_000;

export async function insertRecordCreations(tx: Tx, rows: readonly RecordCreationRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT)
    await tx.insert(recordCreations).values(rows.slice(start, start + ROWS_PER_INSERT));
}

export async function listRecordCreations(
  db: Db | Tx,
  workspaceId: string,
  changeSetId: string,
): Promise<RecordCreationRow[]> {
  return db
    .select()
    .from(recordCreations)
    .where(and(eq(recordCreations.workspaceId, workspaceId), eq(recordCreations.changeSetId, changeSetId)))
    .orderBy(asc(recordCreations.ordinal));
}

/** One creation of a change set, as a decision on it reads it back: its own row, whatever the change set's size. */
export async function findRecordCreation(
  db: Db | Tx,
  query: { workspaceId: string; changeSetId: string; id: string },
): Promise<RecordCreationRow | undefined> {
  const [row] = await db
    .select()
    .from(recordCreations)
    .where(
      and(
        eq(recordCreations.workspaceId, query.workspaceId),
        eq(recordCreations.changeSetId, query.changeSetId),
        eq(recordCreations.id, query.id),
      ),
    );
  return row;
}

/**
 * The standing creations of a workspace (created and not rolled back, being created, or held) that
 * share an email key or a name key with the candidates: what the CRM's search may not show yet.
 */
export async function findStandingCreations(
  tx: Tx,
  workspaceId: string,
  candidates: readonly { emailKey: string | null; nameKey: string | null }[],
): Promise<{ emailKey: string | null; nameKey: string | null; recordId: string | null; changeSetId: string }[]> {
  const present = (values: (string | null)[]) => [...new Set(values.filter((value) => value !== null))];
  const emailKeys = present(candidates.map((candidate) => candidate.emailKey));
  const nameKeys = present(candidates.map((candidate) => candidate.nameKey));
  const matches: SQL[] = [];
  if (emailKeys.length > 0) matches.push(inArray(recordCreations.emailKey, emailKeys));
  if (nameKeys.length > 0) matches.push(inArray(recordCreations.nameKey, nameKeys));
  if (matches.length === 0) return [];
  return tx
    .select({
      emailKey: recordCreations.emailKey,
      nameKey: recordCreations.nameKey,
      recordId: recordCreations.recordId,
      changeSetId: recordCreations.changeSetId,
    })
    .from(recordCreations)
    .where(
      and(
        eq(recordCreations.workspaceId, workspaceId),
        or(...matches),
        inArray(recordCreations.decision, ['applying', 'applied', 'pending_approval']),
        isNull(recordCreations.rolledBackBy),
      ),
    );
}

export type CreationOutcome =
  | { id: string; recordId: string }
  | {
      id: string;
      reason: Extract<ReasonCode, 'crm_rejected' | 'crm_unavailable' | 'kill_switch_engaged'>;
      message: string;
      /** Set for one a person approved that failed for now: it stays `applying`, tried again then. */
      retryAt?: Date;
    };

/**
 * Settles creations still `applying` after the CRM answered: created ones get their record id,
 * the others `failed` with the reason, or, given a retryAt, stay `applying` with the CRM's message.
 * Returns the ids it settled: none another writer already settled.
 */
export async function settleRecordCreations(
  tx: Tx,
  changeSetId: string,
  outcomes: readonly CreationOutcome[],
): Promise<Set<string>> {
  if (outcomes.length === 0) return new Set();
  const ids: string[] = [];
  const recordIds: (string | null)[] = [];
  const reasons: (string | null)[] = [];
  const messages: (string | null)[] = [];
  const retried: boolean[] = [];
  for (const outcome of outcomes) {
    ids.push(outcome.id);
    recordIds.push('recordId' in outcome ? outcome.recordId : null);
    reasons.push('recordId' in outcome ? null : outcome.reason);
    messages.push('recordId' in outcome ? null : outcome.message);
    retried.push('retryAt' in outcome && outcome.retryAt !== undefined);
  }
  const result = await tx.execute(sql`
    update record_creations r set
      record_id = x.record_id,
      decision = case when x.record_id is not null then 'applied' when x.retried then 'applying' else 'failed' end,
      reasons = case when x.reason is null or x.retried then r.reasons else array_append(r.reasons, x.reason) end,
      message = x.message
    from unnest(${sql.param(ids)}::uuid[], ${sql.param(recordIds)}::text[], ${sql.param(reasons)}::text[],
                ${sql.param(messages)}::text[], ${sql.param(retried)}::boolean[]) as x(id, record_id, reason, message, retried)
    where r.id = x.id and r.change_set_id = ${changeSetId} and r.decision = 'applying'
    returning r.id`);
  return new Set((result as unknown as { rows: { id: string }[] }).rows.map((row) => row.id));
}

/** Created records a rollback selector picks (issue 21), whether or not a rollback already handled them. */
function selectedCreationsWhere(workspaceId: string, selector: RollbackSelector): SQL {
  const conditions: SQL[] = [
    eq(recordCreations.workspaceId, workspaceId),
    eq(changeSets.workspaceId, workspaceId),
    eq(recordCreations.decision, 'applied'),
    isNotNull(recordCreations.recordId),
  ];
  if (selector.batchId !== undefined) conditions.push(eq(changeSets.batchId, selector.batchId));
  if (selector.agentId !== undefined) conditions.push(eq(changeSets.agentId, selector.agentId));
  if (selector.since !== undefined) conditions.push(gte(changeSets.createdAt, new Date(selector.since)));
  if (selector.until !== undefined) conditions.push(lt(changeSets.createdAt, new Date(selector.until)));
  if (selector.changeIds !== undefined) conditions.push(inArray(recordCreations.id, selector.changeIds));
  if (selector.recordIds !== undefined) conditions.push(inArray(recordCreations.recordId, selector.recordIds));
  return and(...conditions)!;
}

export async function countSelectedCreations(
  db: Db | Tx,
  query: { workspaceId: string; selector: RollbackSelector },
): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(recordCreations)
    .innerJoin(changeSets, eq(changeSets.id, recordCreations.changeSetId))
    .where(and(selectedCreationsWhere(query.workspaceId, query.selector), isNull(recordCreations.rolledBackBy)));
  return row?.n ?? 0;
}

/** The next `limit` selected creations no rollback has handled yet, oldest first. */
export async function nextSelectedCreations(
  db: Db | Tx,
  query: { workspaceId: string; selector: RollbackSelector; limit: number },
): Promise<(RecordCreationRow & { createdAt: Date })[]> {
  const rows = await db
    .select({ creation: recordCreations, createdAt: changeSets.createdAt })
    .from(recordCreations)
    .innerJoin(changeSets, eq(changeSets.id, recordCreations.changeSetId))
    .where(and(selectedCreationsWhere(query.workspaceId, query.selector), isNull(recordCreations.rolledBackBy)))
    .orderBy(asc(changeSets.createdAt), asc(recordCreations.ordinal))
    .limit(query.limit);
  return rows.map((row) => ({ ...row.creation, createdAt: row.createdAt }));
}

/** What a rollback did with each of its selected creations; a row another run already settled stays as it is. */
export async function markCreationsRolledBack(
  tx: Tx,
  rollbackId: string,
  outcomes: readonly { id: string; outcome: 'archived' | 'conflict'; message: string | null }[],
): Promise<Set<string>> {
  const marked = new Set<string>();
  for (const outcome of outcomes) {
    const rows = await tx
      .update(recordCreations)
      .set({ rolledBackBy: rollbackId, rollbackOutcome: outcome.outcome, rollbackMessage: outcome.message })
      .where(and(eq(recordCreations.id, outcome.id), isNull(recordCreations.rolledBackBy)))
      .returning({ id: recordCreations.id });
    for (const row of rows) marked.add(row.id);
  }
  return marked;
}

export async function countCreationsRolledBack(
  db: Db | Tx,
  rollbackId: string,
): Promise<{ archived: number; conflict: number }> {
  const rows = await db
    .select({ outcome: recordCreations.rollbackOutcome, n: count() })
    .from(recordCreations)
    .where(eq(recordCreations.rolledBackBy, rollbackId))
    .groupBy(recordCreations.rollbackOutcome);
  const counts = { archived: 0, conflict: 0 };
  for (const row of rows) if (row.outcome) counts[row.outcome] = row.n;
  return counts;
}

/** The creation that made this record, with its change set, if an agent created it through us. */
export async function findCreationOfRecord(
  db: Db | Tx,
  query: { workspaceId: string; objectType: string; recordId: string },
): Promise<
  | (Pick<RecordCreationRow, 'id' | 'changeSetId' | 'evidence'> & {
      batchId: string;
      agentId: string;
      createdAt: Date;
      policyVersion: number;
    })
  | undefined
> {
  const [row] = await db
    .select({
      id: recordCreations.id,
      changeSetId: recordCreations.changeSetId,
      evidence: recordCreations.evidence,
      batchId: changeSets.batchId,
      agentId: changeSets.agentId,
      createdAt: changeSets.createdAt,
      policyVersion: changeSets.policyVersion,
    })
    .from(recordCreations)
    .innerJoin(changeSets, eq(changeSets.id, recordCreations.changeSetId))
    .where(
      and(
        eq(recordCreations.workspaceId, query.workspaceId),
        eq(recordCreations.recordId, query.recordId),
        eq(recordCreations.objectType, query.objectType),
      ),
    )
    .limit(1);
  return row;
}

/** Those of `ids` that are creations of the workspace, locked in id order for a decision until the transaction ends. */
export async function lockRecordCreations(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<(RecordCreationRow & { batchId: string; agentId: string; delegationId: string | null })[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .select({
      creation: recordCreations,
      batchId: changeSets.batchId,
      agentId: changeSets.agentId,
      delegationId: changeSets.delegationId,
    })
    .from(recordCreations)
    .innerJoin(changeSets, eq(changeSets.id, recordCreations.changeSetId))
    .where(and(eq(recordCreations.workspaceId, workspaceId), inArray(recordCreations.id, [...ids])))
    .orderBy(asc(recordCreations.id))
    .for('update', { of: recordCreations });
  return rows.map((row) => ({
    ...row.creation,
    batchId: row.batchId,
    agentId: row.agentId,
    delegationId: row.delegationId,
  }));
}

export async function updateRecordCreation(
  tx: Tx,
  id: string,
  set: Partial<Pick<RecordCreationRow, 'decision' | 'approvedBy' | 'message' | 'decidedAt'>>,
): Promise<void> {
  await tx.update(recordCreations).set(set).where(eq(recordCreations.id, id));
}
