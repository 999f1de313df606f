import { and, eq, sql } from 'drizzle-orm';
import type { ReasonCode } from '../../../shared/reason-codes.ts';
import { insertRows } from './bulk-insert.ts';
import type { Db, Tx } from './database.ts';
import { changeSets, changes } from './schema.ts';

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

export async function insertChangeRecords(tx: Tx, rows: { workspaceId: string; changeSetId: string; recordId: string; evidence: object }[]): Promise<void> {
  await insertRows(
    tx,
    'change_records',
    rows.map((row) => ({ workspace_id: row.workspaceId, change_set_id: row.changeSetId, record_id: row.recordId, evidence: row.evidence })),
  );
}

/** Settles the still-`applying` changes of some records after a CRM write (or a refusal to write). */
export async function settleApplyingChanges(
  tx: Tx,
  query: { changeSetId: string; recordIds: string[]; decision: Extract<ChangeDecision, 'applied' | 'failed'>; addReason?: ReasonCode; message: string | null },
): Promise<void> {
  if (query.recordIds.length === 0) return;
  await tx
    .update(changes)
    .set({
      decision: query.decision,
      message: query.message,
      ...(query.addReason ? { reasons: sql`array_append(${changes.reasons}, ${query.addReason})` } : {}),
    })
    .where(and(eq(changes.changeSetId, query.changeSetId), sql`${changes.recordId} = any(${sql.param(query.recordIds)}::text[])`, eq(changes.decision, 'applying')));
}

export async function completeChangeSet(tx: Tx, changeSetId: string): Promise<void> {
  await tx.update(changeSets).set({ status: 'completed' }).where(eq(changeSets.id, changeSetId));
}

export async function findChangeSet(db: Db | Tx, workspaceId: string, changeSetId: string): Promise<ChangeSetRow | undefined> {
  const [row] = await db.select().from(changeSets).where(and(eq(changeSets.workspaceId, workspaceId), eq(changeSets.id, changeSetId)));
  return row;
}

export async function listChanges(db: Db | Tx, workspaceId: string, changeSetId: string): Promise<ChangeRow[]> {
  return db
    .select()
    .from(changes)
    .where(and(eq(changes.workspaceId, workspaceId), eq(changes.changeSetId, changeSetId)));
}
