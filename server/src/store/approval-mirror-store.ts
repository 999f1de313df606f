import { and, asc, eq, gt, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import { approvals } from './approval-schema.ts';
import { withItems, type StoredApproval } from './approval-store.ts';
import type { Db } from './database.ts';
import { agents, changeRecords } from './schema.ts';

/** The approvals' CRM copy is due where a transition happened since the last write and no lease or backoff holds it. */
const mirrorDue = (now: Date) => and(gt(approvals.mirrorSeq, approvals.mirroredSeq), or(isNull(approvals.mirrorHeldUntil), lte(approvals.mirrorHeldUntil, now)));

export async function workspacesWithMirrorDue(db: Db, now: Date): Promise<string[]> {
  const rows = await db.selectDistinct({ workspaceId: approvals.workspaceId }).from(approvals).where(mirrorDue(now));
  return rows.map((row) => row.workspaceId);
}

/**
 * Takes a lease on up to `limit` approvals whose CRM copy is due, with their items. Each comes
 * with the `mirrorSeq` it was read at: the job records that seq once the CRM holds this state.
 */
export async function claimMirrorDue(db: Db, workspaceId: string, now: Date, leaseUntil: Date, limit: number): Promise<StoredApproval[]> {
  const due = db
    .select({ id: approvals.id })
    .from(approvals)
    .where(and(eq(approvals.workspaceId, workspaceId), mirrorDue(now)))
    .orderBy(asc(approvals.id))
    .limit(limit)
    .for('update', { skipLocked: true });
  const rows = await db.update(approvals).set({ mirrorHeldUntil: leaseUntil }).where(inArray(approvals.id, due)).returning();
  return withItems(db, rows);
}

/** Pending approvals on these records: together they make each record's shadow values and pending count. */
export async function pendingOnRecords(db: Db, workspaceId: string, objectType: string, recordIds: string[]): Promise<StoredApproval[]> {
  if (recordIds.length === 0) return [];
  const rows = await db
    .select()
    .from(approvals)
    .where(and(eq(approvals.workspaceId, workspaceId), eq(approvals.objectType, objectType), inArray(approvals.recordId, recordIds), eq(approvals.status, 'pending')))
    .orderBy(asc(approvals.createdAt), asc(approvals.id));
  return withItems(db, rows);
}

/** The CRM holds the state read at `seq`; a transition since keeps the approval due. */
export async function markMirrored(db: Db, written: readonly { id: string; seq: number; crmObjectId: string | null }[]): Promise<void> {
  if (written.length === 0) return;
  const ids = sql.param(written.map((row) => row.id));
  const seqs = sql.param(written.map((row) => row.seq));
  const objectIds = sql.param(written.map((row) => row.crmObjectId));
  await db.execute(sql`
    update approvals set
      mirrored_seq = greatest(approvals.mirrored_seq, w.seq),
      mirror_held_until = null,
      crm_object_id = coalesce(w.crm_object_id, approvals.crm_object_id)
    from unnest(${ids}::uuid[], ${seqs}::int[], ${objectIds}::text[]) as w(id, seq, crm_object_id)
    where approvals.id = w.id`);
}

/** A failed write leaves the approvals due again after `retryAt`. */
export async function deferMirror(db: Db, ids: string[], retryAt: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.update(approvals).set({ mirrorHeldUntil: retryAt }).where(inArray(approvals.id, ids));
}

export async function agentNames(db: Db, workspaceId: string, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select({ id: agents.id, name: agents.name }).from(agents).where(and(eq(agents.workspaceId, workspaceId), inArray(agents.id, ids)));
  return new Map(rows.map((row) => [row.id, row.name]));
}

/** The evidence the agent gave per change set and record, keyed `changeSetId:recordId`. */
export async function evidenceFor(db: Db, workspaceId: string, pairs: readonly { changeSetId: string; recordId: string }[]): Promise<Map<string, unknown>> {
  if (pairs.length === 0) return new Map();
  const rows = await db
    .select()
    .from(changeRecords)
    .where(
      and(
        eq(changeRecords.workspaceId, workspaceId),
        inArray(changeRecords.changeSetId, [...new Set(pairs.map((pair) => pair.changeSetId))]),
        inArray(changeRecords.recordId, [...new Set(pairs.map((pair) => pair.recordId))]),
      ),
    );
  return new Map(rows.map((row) => [`${row.changeSetId}:${row.recordId}`, row.evidence]));
}
