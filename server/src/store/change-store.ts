import { and, asc, eq, isNotNull, isNull, lt, notExists, notInArray, or, sql } from 'drizzle-orm';
import { DECISIONS } from '../../../shared/agent-api.ts';
import type { ReasonCode } from '../../../shared/reason-codes.ts';
import { insertRows } from './bulk-insert.ts';
import type { Db, Tx } from './database.ts';
import { changeRecords, changeSets, changes, recordAssociations, recordCreations } from './schema.ts';

export type ChangeSetRow = typeof changeSets.$inferSelect;
export type ChangeRow = typeof changes.$inferSelect;
export type NewChangeRow = typeof changes.$inferInsert;
export type ChangeDecision = ChangeRow['decision'];

export async function insertChangeSet(tx: Tx, row: typeof changeSets.$inferInsert): Promise<void> {
  await tx.insert(changeSets).values(row);
}

export async function insertChanges(tx: Tx, rows: NewChangeRow[]): Promise<void> {
  await insertRows(
    tx,
    'changes',
    rows.map((row) => ({
      id: row.id,
      workspace_id: row.workspaceId,
      change_set_id: row.changeSetId,
      ordinal: row.ordinal,
      record_id: row.recordId,
      property: row.property,
      before_value: row.beforeValue ?? null,
      proposed_value: row.proposedValue ?? null,
      tier: row.tier ?? null,
      decision: row.decision,
      reasons: row.reasons,
      message: row.message ?? null,
    })),
  );
}

export async function insertChangeRecords(
  tx: Tx,
  rows: { workspaceId: string; changeSetId: string; recordId: string; evidence: object }[],
): Promise<void> {
  await insertRows(
    tx,
    'change_records',
    rows.map((row) => ({
      workspace_id: row.workspaceId,
      change_set_id: row.changeSetId,
      record_id: row.recordId,
      evidence: row.evidence,
    })),
  );
}

/**
 * Settles the still-`applying` changes of some records after a CRM write (or a refusal to write),
 * and returns the records it settled: none of a record another server already settled.
 */
export async function settleApplyingChanges(
  tx: Tx,
  query: {
    changeSetId: string;
    recordIds: string[];
    decision: Extract<ChangeDecision, 'applied' | 'failed'>;
    addReason?: ReasonCode;
    message: string | null;
  },
): Promise<string[]> {
  if (query.recordIds.length === 0) return [];
  const settled = await tx
    .update(changes)
    .set({
      decision: query.decision,
      message: query.message,
      ...(query.addReason ? { reasons: sql`array_append(${changes.reasons}, ${query.addReason})` } : {}),
    })
    .where(
      and(
        eq(changes.changeSetId, query.changeSetId),
        sql`${changes.recordId} = any(${sql.param(query.recordIds)}::text[])`,
        eq(changes.decision, 'applying'),
      ),
    )
    .returning({ recordId: changes.recordId });
  return [...new Set(settled.map((row) => row.recordId))];
}

/** The value before each of these changes of the workspace, by id, as our rows hold it. */
export async function changesBefore(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<Map<string, string | null>> {
  if (ids.length === 0) return new Map();
  const rows = await tx
    .select({ id: changes.id, before: changes.beforeValue })
    .from(changes)
    .where(and(eq(changes.workspaceId, workspaceId), sql`${changes.id} = any(${sql.param([...ids])}::uuid[])`));
  return new Map(rows.map((row) => [row.id, row.before]));
}

/**
 * Completes a change set, unless a creation or association of it is still `applying`: one a person
 * approved while another holder wrote the rest, or one waiting to be tried again. The change set
 * then stays `applying`, and once its lease lapses recovery takes it over and finishes that one.
 */
export async function completeChangeSet(tx: Tx, changeSetId: string): Promise<void> {
  await tx
    .update(changeSets)
    .set({ status: 'completed', leaseHolder: null, leaseExpiresAt: null })
    .where(
      and(
        eq(changeSets.id, changeSetId),
        notExists(
          tx
            .select({ id: recordCreations.id })
            .from(recordCreations)
            .where(and(eq(recordCreations.changeSetId, changeSetId), eq(recordCreations.decision, 'applying'))),
        ),
        notExists(
          tx
            .select({ id: recordAssociations.id })
            .from(recordAssociations)
            .where(and(eq(recordAssociations.changeSetId, changeSetId), eq(recordAssociations.decision, 'applying'))),
        ),
      ),
    );
}

/**
 * Leaves a change set to recovery at `retryAt`: its lease held by nobody (a holder still renewing
 * it loses it) and lapsing then, when any server's recovery job takes it and tries its `applying`
 * creations and associations again (issue 21: a person approved them, the CRM failed for now).
 */
export async function deferChangeSet(tx: Tx, changeSetId: string, retryAt: Date): Promise<void> {
  await tx
    .update(changeSets)
    .set({ status: 'applying', leaseHolder: null, leaseExpiresAt: retryAt })
    .where(eq(changeSets.id, changeSetId));
}

/**
 * Takes a change set's lease for `holder` to write the creations or associations a person just
 * approved, unless another holder's lease still runs (it is writing the change set: its completion
 * leaves these to recovery). A deferred change set (held by nobody) is taken. True when taken.
 */
export async function claimChangeSetForApproved(
  tx: Tx,
  query: { id: string; holder: string; now: Date; until: Date },
): Promise<boolean> {
  const claimed = await tx
    .update(changeSets)
    .set({ status: 'applying', leaseHolder: query.holder, leaseExpiresAt: query.until })
    .where(
      and(
        eq(changeSets.id, query.id),
        or(
          eq(changeSets.status, 'completed'),
          isNull(changeSets.leaseHolder),
          lt(changeSets.leaseExpiresAt, query.now),
        ),
      ),
    )
    .returning({ id: changeSets.id });
  return claimed.length === 1;
}

/**
 * Claims for `holder` one applying change set whose lease lapsed (its writer died). Never one
 * whose lease still runs, even this holder's own: the same server may be writing it right now.
 * Change sets without a lease (a rollback's own) are not ours to take. SKIP LOCKED lets every
 * server poll at once; each change set goes to one of them.
 */
export async function claimLapsedChangeSet(
  db: Db,
  query: { holder: string; now: Date; until: Date; except?: readonly string[] },
): Promise<{ changeSet: ChangeSetRow; previousHolder: string | null } | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(changeSets)
      .where(
        and(
          eq(changeSets.status, 'applying'),
          isNotNull(changeSets.leaseExpiresAt),
          lt(changeSets.leaseExpiresAt, query.now),
          query.except?.length ? notInArray(changeSets.workspaceId, [...query.except]) : undefined,
        ),
      )
      .orderBy(asc(changeSets.leaseExpiresAt))
      .limit(1)
      .for('update', { skipLocked: true });
    if (!row) return undefined;
    await tx
      .update(changeSets)
      .set({ leaseHolder: query.holder, leaseExpiresAt: query.until })
      .where(eq(changeSets.id, row.id));
    return {
      changeSet: { ...row, leaseHolder: query.holder, leaseExpiresAt: query.until },
      previousHolder: row.leaseHolder,
    };
  });
}

/** Extends the lease while this holder still has it and the change set is applying; false means it is no longer ours. */
export async function renewChangeSetLease(
  db: Db,
  query: { id: string; holder: string; until: Date },
): Promise<boolean> {
  const renewed = await db
    .update(changeSets)
    .set({ leaseExpiresAt: query.until })
    .where(
      and(eq(changeSets.id, query.id), eq(changeSets.leaseHolder, query.holder), eq(changeSets.status, 'applying')),
    )
    .returning({ id: changeSets.id });
  return renewed.length === 1;
}

/** The changes of a change set still waiting for their write's outcome. */
export async function listApplyingChanges(
  db: Db | Tx,
  changeSetId: string,
): Promise<Pick<ChangeRow, 'recordId' | 'property' | 'beforeValue' | 'proposedValue'>[]> {
  return db
    .select({
      recordId: changes.recordId,
      property: changes.property,
      beforeValue: changes.beforeValue,
      proposedValue: changes.proposedValue,
    })
    .from(changes)
    .where(and(eq(changes.changeSetId, changeSetId), eq(changes.decision, 'applying')))
    .orderBy(asc(changes.ordinal));
}

/**
 * A change, creation or association of this change set whose decision is none this server knows
 * (edited in the database), if any: the change set is then not to be acted on.
 */
export async function findDamagedDecision(
  db: Db | Tx,
  changeSetId: string,
): Promise<{ changeId: string; decision: string } | undefined> {
  const found = await Promise.all(
    [changes, recordCreations, recordAssociations].map((table) =>
      db
        .select({ changeId: table.id, decision: table.decision })
        .from(table)
        .where(and(eq(table.changeSetId, changeSetId), notInArray(table.decision, [...DECISIONS])))
        .limit(1),
    ),
  );
  return found.flat()[0];
}

/** The evidence the agent gave per record of a change set (stored whole, validated by the caller). */
export async function changeRecordEvidence(
  db: Db | Tx,
  changeSetId: string,
  recordIds: readonly string[],
): Promise<Map<string, unknown>> {
  if (recordIds.length === 0) return new Map();
  const rows = await db
    .select({ recordId: changeRecords.recordId, evidence: changeRecords.evidence })
    .from(changeRecords)
    .where(
      and(
        eq(changeRecords.changeSetId, changeSetId),
        sql`${changeRecords.recordId} = any(${sql.param([...recordIds])}::text[])`,
      ),
    );
  return new Map(rows.map((row) => [row.recordId, row.evidence]));
}

export async function findChangeSet(
  db: Db | Tx,
  workspaceId: string,
  changeSetId: string,
): Promise<ChangeSetRow | undefined> {
  const [row] = await db
    .select()
    .from(changeSets)
    .where(and(eq(changeSets.workspaceId, workspaceId), eq(changeSets.id, changeSetId)));
  return row;
}

export async function listChanges(db: Db | Tx, workspaceId: string, changeSetId: string): Promise<ChangeRow[]> {
  return db
    .select()
    .from(changes)
    .where(and(eq(changes.workspaceId, workspaceId), eq(changes.changeSetId, changeSetId)));
}

/**
 * The evidence the agent gave for each of these records in its change set (provenance repeats it
 * on the record), in one query, keyed by `evidenceKey`.
 */
export async function findRecordsEvidence(
  db: Db | Tx,
  workspaceId: string,
  records: readonly { changeSetId: string; recordId: string }[],
): Promise<Map<string, unknown>> {
  if (records.length === 0) return new Map();
  const rows = await db
    .select({
      changeSetId: changeRecords.changeSetId,
      recordId: changeRecords.recordId,
      evidence: changeRecords.evidence,
    })
    .from(changeRecords)
    .where(
      and(
        eq(changeRecords.workspaceId, workspaceId),
        sql`(${changeRecords.changeSetId}, ${changeRecords.recordId}) in (select * from unnest(${sql.param(records.map((r) => r.changeSetId))}::uuid[], ${sql.param(records.map((r) => r.recordId))}::text[]))`,
      ),
    );
  return new Map(rows.map((row) => [evidenceKey(row), row.evidence]));
}

export function evidenceKey(record: { changeSetId: string; recordId: string }): string {
  return `${record.changeSetId}\u0000${record.recordId}`;
}
