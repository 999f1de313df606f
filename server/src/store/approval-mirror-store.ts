import { and, asc, count, eq, gt, inArray, isNull, lte, notInArray, or, sql } from 'drizzle-orm';
import type { ActionRow } from './action-store.ts';
import { approvals } from './approval-schema.ts';
import { withItems, type StoredApproval } from './approval-store.ts';
import type { Db, Tx } from './database.ts';
import { actions, agents, changeRecords } from './schema.ts';

/**
 * The CRM copy is due where a transition happened since the last write and no lease or backoff
 * holds it: for a record's held writes (approvals) and for held drafts (actions) alike.
 */
const mirrorDue = (table: typeof approvals | typeof actions, now: Date) =>
  and(gt(table.mirrorSeq, table.mirroredSeq), or(isNull(table.mirrorHeldUntil), lte(table.mirrorHeldUntil, now)));

export async function workspacesWithMirrorDue(db: Db, now: Date, except: readonly string[] = []): Promise<string[]> {
  const others = (table: typeof approvals | typeof actions) =>
    except.length > 0 ? notInArray(table.workspaceId, [...except]) : undefined;
  const rows = await db
    .selectDistinct({ workspaceId: approvals.workspaceId })
    .from(approvals)
    .where(and(mirrorDue(approvals, now), others(approvals)))
    .union(
      db
        .selectDistinct({ workspaceId: actions.workspaceId })
        .from(actions)
        .where(and(mirrorDue(actions, now), others(actions))),
    );
  return rows.map((row) => row.workspaceId);
}

/** What one CRM batch mirrors: up to 100 approval objects, a record's held writes first, then held drafts. */
export interface MirrorChunk {
  approvals: StoredApproval[];
  drafts: ActionRow[];
}

export const chunkSize = (chunk: MirrorChunk) => chunk.approvals.length + chunk.drafts.length;

/**
 * Takes a lease on up to `limit` approvals and held drafts whose CRM copy is due (approvals with
 * their items). Each comes with the `mirrorSeq` it was read at: the job records that seq once
 * the CRM holds this state.
 */
export async function claimMirrorDue(
  db: Db,
  workspaceId: string,
  now: Date,
  leaseUntil: Date,
  limit: number,
): Promise<MirrorChunk> {
  const dueApprovals = db
    .select({ id: approvals.id })
    .from(approvals)
    .where(and(eq(approvals.workspaceId, workspaceId), mirrorDue(approvals, now)))
    .orderBy(asc(approvals.id))
    .limit(limit)
    .for('update', { skipLocked: true });
  const claimed = await withItems(
    db,
    await db
      .update(approvals)
      .set({ mirrorHeldUntil: leaseUntil })
      .where(inArray(approvals.id, dueApprovals))
      .returning(),
  );
  if (claimed.length === limit) return { approvals: claimed, drafts: [] };
  const dueDrafts = db
    .select({ id: actions.id })
    .from(actions)
    .where(and(eq(actions.workspaceId, workspaceId), mirrorDue(actions, now)))
    .orderBy(asc(actions.id))
    .limit(limit - claimed.length)
    .for('update', { skipLocked: true });
  const drafts = await db
    .update(actions)
    .set({ mirrorHeldUntil: leaseUntil })
    .where(inArray(actions.id, dueDrafts))
    .returning();
  return { approvals: claimed, drafts };
}

/** How many held drafts wait for a person on each of these records: they count among the record's pending approvals. */
export async function pendingDraftCounts(
  db: Db,
  workspaceId: string,
  objectType: string,
  recordIds: string[],
): Promise<Map<string, number>> {
  if (recordIds.length === 0) return new Map();
  const rows = await db
    .select({ recordId: actions.recordId, pending: count() })
    .from(actions)
    .where(
      and(
        eq(actions.workspaceId, workspaceId),
        eq(actions.objectType, objectType),
        inArray(actions.recordId, recordIds),
        eq(actions.status, 'pending'),
      ),
    )
    .groupBy(actions.recordId);
  return new Map(rows.map((row) => [row.recordId, row.pending]));
}

/** Pending approvals on these records: together they make each record's shadow values and pending count. */
export async function pendingOnRecords(
  db: Db,
  workspaceId: string,
  objectType: string,
  recordIds: string[],
): Promise<StoredApproval[]> {
  if (recordIds.length === 0) return [];
  const rows = await db
    .select()
    .from(approvals)
    .where(
      and(
        eq(approvals.workspaceId, workspaceId),
        eq(approvals.objectType, objectType),
        inArray(approvals.recordId, recordIds),
        eq(approvals.status, 'pending'),
      ),
    )
    .orderBy(asc(approvals.createdAt), asc(approvals.id));
  return withItems(db, rows);
}

interface Written {
  id: string;
  seq: number;
  crmObjectId: string | null;
}

/** The CRM holds the state read at `seq`; a transition since keeps the approval or draft due. */
export async function markMirrored(
  db: Db | Tx,
  written: { approvals: readonly Written[]; drafts: readonly Written[] },
): Promise<void> {
  if (written.approvals.length > 0) {
    const w = unnestWritten(written.approvals);
    await db.execute(sql`
      update approvals set
        mirrored_seq = greatest(approvals.mirrored_seq, w.seq),
        mirror_held_until = null,
        crm_object_id = coalesce(w.crm_object_id, approvals.crm_object_id)
      from ${w} where approvals.id = w.id`);
  }
  if (written.drafts.length > 0) {
    const w = unnestWritten(written.drafts);
    await db.execute(sql`
      update actions set
        mirrored_seq = greatest(actions.mirrored_seq, w.seq),
        mirror_held_until = null,
        approval_object_id = coalesce(w.crm_object_id, actions.approval_object_id)
      from ${w} where actions.id = w.id`);
  }
}

function unnestWritten(rows: readonly Written[]) {
  const ids = sql.param(rows.map((row) => row.id));
  const seqs = sql.param(rows.map((row) => row.seq));
  const objectIds = sql.param(rows.map((row) => row.crmObjectId));
  return sql`unnest(${ids}::uuid[], ${seqs}::int[], ${objectIds}::text[]) as w(id, seq, crm_object_id)`;
}

/** A failed write leaves the chunk's approvals and drafts due again after `retryAt`. */
export async function deferMirror(db: Db, chunk: MirrorChunk, retryAt: Date): Promise<void> {
  if (chunk.approvals.length > 0)
    await db
      .update(approvals)
      .set({ mirrorHeldUntil: retryAt })
      .where(
        inArray(
          approvals.id,
          chunk.approvals.map((approval) => approval.id),
        ),
      );
  if (chunk.drafts.length > 0)
    await db
      .update(actions)
      .set({ mirrorHeldUntil: retryAt })
      .where(
        inArray(
          actions.id,
          chunk.drafts.map((draft) => draft.id),
        ),
      );
}

export async function agentNames(db: Db, workspaceId: string, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: agents.id, name: agents.name })
    .from(agents)
    .where(and(eq(agents.workspaceId, workspaceId), inArray(agents.id, ids)));
  return new Map(rows.map((row) => [row.id, row.name]));
}

/** The evidence the agent gave per change set and record, keyed `changeSetId:recordId`. */
export async function evidenceFor(
  db: Db,
  workspaceId: string,
  pairs: readonly { changeSetId: string; recordId: string }[],
): Promise<Map<string, unknown>> {
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
