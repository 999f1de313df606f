import { and, asc, eq, sql } from 'drizzle-orm';
import type { ReasonCode } from '../../../shared/reason-codes.ts';
import type { Db, Tx } from './database.ts';
import { recordCreations } from './schema.ts';

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

/**
 * Settles creations still `applying` after the CRM answered: created ones get their record id,
 * the others `failed` with the reason. Returns the ids it settled: none another writer already settled.
 */
export async function settleRecordCreations(
  tx: Tx,
  changeSetId: string,
  outcomes: readonly (
    | { id: string; recordId: string }
    | {
        id: string;
        reason: Extract<ReasonCode, 'crm_rejected' | 'crm_unavailable' | 'kill_switch_engaged'>;
        message: string;
      }
  )[],
): Promise<Set<string>> {
  if (outcomes.length === 0) return new Set();
  const ids: string[] = [];
  const recordIds: (string | null)[] = [];
  const reasons: (string | null)[] = [];
  const messages: (string | null)[] = [];
  for (const outcome of outcomes) {
    ids.push(outcome.id);
    recordIds.push('recordId' in outcome ? outcome.recordId : null);
    reasons.push('recordId' in outcome ? null : outcome.reason);
    messages.push('recordId' in outcome ? null : outcome.message);
  }
  const result = await tx.execute(sql`
    update record_creations r set
      record_id = x.record_id,
      decision = case when x.record_id is null then 'failed' else 'applied' end,
      reasons = case when x.reason is null then r.reasons else array_append(r.reasons, x.reason) end,
      message = x.message
    from unnest(${sql.param(ids)}::uuid[], ${sql.param(recordIds)}::text[], ${sql.param(reasons)}::text[],
                ${sql.param(messages)}::text[]) as x(id, record_id, reason, message)
    where r.id = x.id and r.change_set_id = ${changeSetId} and r.decision = 'applying'
    returning r.id`);
  return new Set((result as unknown as { rows: { id: string }[] }).rows.map((row) => row.id));
}
