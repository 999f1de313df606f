import { and, asc, count, desc, eq, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { Approval, ApprovalItem } from '../domain/approval-lifecycle.ts';
import { insertRows } from './bulk-insert.ts';
import type { Db, Tx } from './database.ts';
import { approvalItems, approvals } from './approval-schema.ts';

export type ApprovalRow = typeof approvals.$inferSelect;
export type ApprovalItemRow = typeof approvalItems.$inferSelect;
/** What a new approval stores; every other column starts at its default. */
export type NewApproval = Pick<
  ApprovalRow,
  | 'id'
  | 'workspaceId'
  | 'changeSetId'
  | 'agentId'
  | 'batchId'
  | 'objectType'
  | 'recordId'
  | 'policyVersion'
  | 'tier'
  | 'status'
  | 'expiresAt'
  | 'recordOwnerId'
  | 'delegatedUserId'
  | 'createdAt'
>;
export type NewApprovalItem = Pick<
  ApprovalItemRow,
  'approvalId' | 'property' | 'changeId' | 'beforeValue' | 'proposedValue' | 'status' | 'approvedBy'
>;
export type StoredApproval = ApprovalRow & { items: ApprovalItemRow[] };

/** New approvals of one change set with their items, stored as one statement per table (see bulk-insert.ts). */
export async function insertApprovals(tx: Tx, rows: NewApproval[], items: NewApprovalItem[]): Promise<void> {
  if (rows.length === 0) return;
  await insertRows(
    tx,
    'approvals',
    rows.map((row) => ({
      id: row.id,
      workspace_id: row.workspaceId,
      change_set_id: row.changeSetId,
      agent_id: row.agentId,
      batch_id: row.batchId,
      object_type: row.objectType,
      record_id: row.recordId,
      policy_version: row.policyVersion,
      tier: row.tier,
      status: row.status,
      expires_at: row.expiresAt,
      record_owner_id: row.recordOwnerId,
      delegated_user_id: row.delegatedUserId,
      created_at: row.createdAt,
    })),
  );
  await insertRows(
    tx,
    'approval_items',
    items.map((item) => ({
      approval_id: item.approvalId,
      property: item.property,
      change_id: item.changeId,
      before_value: item.beforeValue,
      proposed_value: item.proposedValue,
      status: item.status,
      approved_by: item.approvedBy,
    })),
  );
}

/**
 * Reads one approval and holds its row until the transaction ends: two people deciding at once
 * are decided one after the other, the second seeing the first's outcome.
 */
export async function lockApproval(tx: Tx, workspaceId: string, id: string): Promise<StoredApproval | undefined> {
  const [row] = await tx
    .select()
    .from(approvals)
    .where(and(eq(approvals.workspaceId, workspaceId), eq(approvals.id, id)))
    .for('update');
  if (!row) return undefined;
  return { ...row, items: await itemsOf(tx, [id]).then((items) => items.get(id) ?? []) };
}

/** Locks many approvals in id order (so two batches never deadlock), with their items. */
export async function lockApprovals(tx: Tx, workspaceId: string, ids: readonly string[]): Promise<StoredApproval[]> {
  const rows = await tx
    .select()
    .from(approvals)
    .where(and(eq(approvals.workspaceId, workspaceId), inArray(approvals.id, [...ids])))
    .orderBy(asc(approvals.id))
    .for('update');
  return withItems(tx, rows);
}

export async function statusesOf(
  db: Db,
  workspaceId: string,
  ids: readonly string[],
): Promise<Map<string, ApprovalRow['status']>> {
  const rows = await db
    .select({ id: approvals.id, status: approvals.status })
    .from(approvals)
    .where(and(eq(approvals.workspaceId, workspaceId), inArray(approvals.id, [...ids])));
  return new Map(rows.map((row) => [row.id, row.status]));
}

/** Open (pending or approved) approvals on these records, locked, with their items. */
export async function lockOpenApprovalsOnRecords(
  tx: Tx,
  workspaceId: string,
  recordIds: readonly string[],
): Promise<StoredApproval[]> {
  if (recordIds.length === 0) return [];
  const rows = await tx
    .select()
    .from(approvals)
    .where(
      and(
        eq(approvals.workspaceId, workspaceId),
        inArray(approvals.recordId, [...recordIds]),
        inArray(approvals.status, ['pending', 'approved']),
      ),
    )
    .orderBy(asc(approvals.id))
    .for('update');
  return withItems(tx, rows);
}

/** The approval a CRM approval-object record mirrors, locked. */
export async function lockApprovalByCrmObject(
  tx: Tx,
  workspaceId: string,
  crmObjectId: string,
): Promise<StoredApproval | undefined> {
  const [row] = await tx
    .select()
    .from(approvals)
    .where(and(eq(approvals.workspaceId, workspaceId), eq(approvals.crmObjectId, crmObjectId)))
    .for('update');
  if (!row) return undefined;
  return { ...row, items: (await itemsOf(tx, [row.id])).get(row.id) ?? [] };
}

/** The CRM copy differs from ours (someone not allowed changed it there): the mirror job writes ours again. */
export async function markMirrorDue(tx: Tx, id: string): Promise<void> {
  await tx
    .update(approvals)
    .set({ mirrorSeq: sql`${approvals.mirrorSeq} + 1`, mirrorHeldUntil: null })
    .where(eq(approvals.id, id));
}

/** A person changed a held property, or the record is gone: the approval can no longer be applied. */
export async function markStale(tx: Tx, id: string, message: string, now: Date): Promise<void> {
  await tx
    .update(approvals)
    .set({ status: 'stale', message, decidedAt: now, mirrorSeq: sql`${approvals.mirrorSeq} + 1` })
    .where(eq(approvals.id, id));
}

export async function findApproval(db: Db | Tx, workspaceId: string, id: string): Promise<StoredApproval | undefined> {
  const [row] = await db
    .select()
    .from(approvals)
    .where(and(eq(approvals.workspaceId, workspaceId), eq(approvals.id, id)));
  if (!row) return undefined;
  return { ...row, items: (await itemsOf(db, [id])).get(id) ?? [] };
}

export interface ApprovalFilter {
  recordId?: string | undefined;
  batchId?: string | undefined;
  agentId?: string | undefined;
  status?: ApprovalRow['status'] | undefined;
  /** Only approvals holding this property. */
  property?: string | undefined;
  /** Only approvals created at or before this instant (what has waited long enough). */
  createdBefore?: Date | undefined;
  /** The keyset cursor: the last approval of the page before (newest first). */
  after?: { createdAt: Date; id: string } | undefined;
  limit: number;
}

/** Newest first, with their items. */
export async function listApprovals(db: Db, workspaceId: string, filter: ApprovalFilter): Promise<StoredApproval[]> {
  const where: SQL[] = [eq(approvals.workspaceId, workspaceId)];
  if (filter.recordId) where.push(eq(approvals.recordId, filter.recordId));
  if (filter.batchId) where.push(eq(approvals.batchId, filter.batchId));
  if (filter.agentId) where.push(eq(approvals.agentId, filter.agentId));
  if (filter.status) where.push(eq(approvals.status, filter.status));
  if (filter.property)
    where.push(
      sql`exists (select 1 from ${approvalItems} where ${approvalItems.approvalId} = ${approvals.id} and ${approvalItems.property} = ${filter.property})`,
    );
  if (filter.createdBefore) where.push(lte(approvals.createdAt, filter.createdBefore));
  if (filter.after)
    where.push(
      sql`(${approvals.createdAt}, ${approvals.id}) < (${filter.after.createdAt.toISOString()}::timestamptz, ${filter.after.id}::uuid)`,
    );
  const rows = await db
    .select()
    .from(approvals)
    .where(and(...where))
    .orderBy(desc(approvals.createdAt), desc(approvals.id))
    .limit(filter.limit);
  return withItems(db, rows);
}

/**
 * Approvals people approved whose write has not happened as they meant, decided since `since`,
 * newest decision first: stale (the record changed, nothing was written) or still `approved` after
 * a failed attempt (retried with backoff). A handful at most per workspace: both are rare.
 */
export async function listUnwrittenApprovals(
  db: Db,
  workspaceId: string,
  since: Date,
  limit: number,
): Promise<StoredApproval[]> {
  const rows = await db
    .select()
    .from(approvals)
    .where(
      and(
        eq(approvals.workspaceId, workspaceId),
        inArray(approvals.status, ['stale', 'approved']),
        sql`${approvals.decidedAt} >= ${since.toISOString()}::timestamptz`,
        sql`cardinality(${approvals.decidedBy}) > 0`,
        sql`(${approvals.status} = 'stale' or ${approvals.applyAttempts} > 0)`,
      ),
    )
    .orderBy(desc(approvals.decidedAt), desc(approvals.id))
    .limit(limit);
  return withItems(db, rows);
}

/** The approvals with their items, in one more query. */
export async function withItems(db: Db | Tx, rows: ApprovalRow[]): Promise<StoredApproval[]> {
  const items = await itemsOf(
    db,
    rows.map((row) => row.id),
  );
  return rows.map((row) => ({ ...row, items: items.get(row.id) ?? [] }));
}

async function itemsOf(db: Db | Tx, ids: string[]): Promise<Map<string, ApprovalItemRow[]>> {
  const byApproval = new Map<string, ApprovalItemRow[]>();
  if (ids.length === 0) return byApproval;
  const rows = await db
    .select()
    .from(approvalItems)
    .where(inArray(approvalItems.approvalId, ids))
    .orderBy(asc(approvalItems.property));
  for (const row of rows) {
    const list = byApproval.get(row.approvalId);
    if (list) list.push(row);
    else byApproval.set(row.approvalId, [row]);
  }
  return byApproval;
}

/** Open (pending or approved) approvals of these change sets on these records, locked, with their items. */
export async function lockOpenApprovalsOf(
  tx: Tx,
  workspaceId: string,
  changeSetIds: string[],
  recordIds: string[],
): Promise<StoredApproval[]> {
  if (changeSetIds.length === 0 || recordIds.length === 0) return [];
  const rows = await tx
    .select()
    .from(approvals)
    .where(
      and(
        eq(approvals.workspaceId, workspaceId),
        inArray(approvals.recordId, recordIds),
        inArray(approvals.changeSetId, changeSetIds),
        inArray(approvals.status, ['pending', 'approved']),
      ),
    )
    .orderBy(asc(approvals.id))
    .for('update');
  return withItems(tx, rows);
}

export interface TransitionWrite {
  stored: StoredApproval;
  next: Approval;
  change: { decidedAt?: Date; decidedBy?: string[]; message?: string | null };
}

/**
 * Stores transitions the state machine made: each approval's status and each item that changed,
 * in two statements whatever their number (a batch decision of 1,000 stays two round trips).
 * Bumping `mirror_seq` makes the CRM mirror job write the new state.
 */
export async function saveTransitions(tx: Tx, writes: readonly TransitionWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const rows = writes.map(({ stored, next, change }) => ({
    id: stored.id,
    status: next.status,
    decided_at: change.decidedAt?.toISOString() ?? null,
    decided_by: change.decidedBy ?? null,
    set_message: change.message !== undefined,
    message: change.message ?? null,
  }));
  await tx.execute(sql`
    update approvals set
      status = v.status,
      decided_at = coalesce(v.decided_at, approvals.decided_at),
      decided_by = coalesce(v.decided_by, approvals.decided_by),
      message = case when v.set_message then v.message else approvals.message end,
      mirror_seq = approvals.mirror_seq + 1
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id uuid, status text, decided_at timestamptz, decided_by text[], set_message boolean, message text)
    where approvals.id = v.id`);
  const items = writes.flatMap(({ stored, next }) =>
    next.items
      .filter((item) => {
        const before = stored.items.find((row) => row.property === item.property);
        const edited = item.editedValue !== undefined;
        return !(
          before &&
          before.status === item.status &&
          before.approvedBy.length === item.approvedBy.length &&
          before.edited === edited &&
          before.editedValue === (item.editedValue ?? null)
        );
      })
      .map((item) => ({
        approval_id: stored.id,
        property: item.property,
        status: item.status,
        approved_by: item.approvedBy,
        edited: item.editedValue !== undefined,
        edited_value: item.editedValue ?? null,
      })),
  );
  if (items.length === 0) return;
  await tx.execute(sql`
    update approval_items set status = v.status, approved_by = v.approved_by, edited = v.edited, edited_value = v.edited_value
    from jsonb_to_recordset(${JSON.stringify(items)}::jsonb) as v(approval_id uuid, property text, status text, approved_by text[], edited boolean, edited_value text)
    where approval_items.approval_id = v.approval_id and approval_items.property = v.property`);
}

/** The state machine's view of a stored approval. */
export function toDomainApproval(stored: StoredApproval): Approval {
  return {
    status: stored.status,
    tier: stored.tier,
    expiresAt: stored.expiresAt,
    recordOwnerId: stored.recordOwnerId,
    delegatedUserId: stored.delegatedUserId,
    items: stored.items.map(
      (item): ApprovalItem => ({
        property: item.property,
        proposedValue: item.proposedValue,
        ...(item.edited ? { editedValue: item.editedValue } : {}),
        status: item.status,
        approvedBy: item.approvedBy,
      }),
    ),
  };
}

/** Pending approvals past their expiry, locked; rows another transaction holds are left for the next sweep. */
export async function lockExpiredPending(
  tx: Tx,
  workspaceId: string,
  now: Date,
  limit: number,
): Promise<ApprovalRow[]> {
  return tx
    .select()
    .from(approvals)
    .where(and(eq(approvals.workspaceId, workspaceId), eq(approvals.status, 'pending'), lte(approvals.expiresAt, now)))
    .orderBy(asc(approvals.expiresAt))
    .limit(limit)
    .for('update', { skipLocked: true });
}

export async function workspacesWithExpiredPending(db: Db, now: Date): Promise<string[]> {
  const rows = await db
    .selectDistinct({ workspaceId: approvals.workspaceId })
    .from(approvals)
    .where(and(eq(approvals.status, 'pending'), lte(approvals.expiresAt, now)));
  return rows.map((row) => row.workspaceId);
}

export async function markExpired(tx: Tx, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .update(approvals)
    .set({
      status: 'expired',
      decidedAt: now,
      message: 'Nobody decided before the approval expired.',
      mirrorSeq: sql`${approvals.mirrorSeq} + 1`,
    })
    .where(inArray(approvals.id, ids));
}

/** How many of an agent's approvals in a batch people decided, and how many of those they rejected. */
export async function batchDecisionCounts(
  db: Db,
  workspaceId: string,
  agentId: string,
  batchId: string,
): Promise<{ decided: number; rejected: number }> {
  const rows = await db
    .select({ status: approvals.status, n: count() })
    .from(approvals)
    .where(
      and(
        eq(approvals.workspaceId, workspaceId),
        eq(approvals.agentId, agentId),
        eq(approvals.batchId, batchId),
        inArray(approvals.status, ['approved', 'applied', 'rejected']),
      ),
    )
    .groupBy(approvals.status);
  return {
    decided: rows.reduce((sum, row) => sum + row.n, 0),
    rejected: rows.find((row) => row.status === 'rejected')?.n ?? 0,
  };
}
