import { and, asc, count, desc, eq, inArray, lt, max, sql } from 'drizzle-orm';
import { auditFilterConditions, personalOfEvent, shownWhole, type AuditFilter } from './audit-store.ts';
import { withItems, type StoredApproval } from './approval-store.ts';
import type { Db } from './database.ts';
import {
  approvalItems,
  approvals,
  auditEvents,
  auditPersonalData,
  changeRecords,
  changes,
  changeSets,
} from './schema.ts';

/** Reads behind the HubSpot app's screens (issue 8); every query is scoped to its workspace. */

export interface RecordRef {
  workspaceId: string;
  objectType: string;
  recordId: string;
}

/** The pending approvals of many records of one object type (an index page's selection), oldest first, at most `limit`, with their items. */
export async function pendingApprovalsOnRecords(
  db: Db,
  selection: { workspaceId: string; objectType: string; recordIds: readonly string[] },
  limit: number,
): Promise<StoredApproval[]> {
  const rows = await db
    .select()
    .from(approvals)
    .where(
      and(
        eq(approvals.workspaceId, selection.workspaceId),
        eq(approvals.objectType, selection.objectType),
        inArray(approvals.recordId, [...selection.recordIds]),
        eq(approvals.status, 'pending'),
      ),
    )
    .orderBy(asc(approvals.createdAt), asc(approvals.id))
    .limit(limit);
  return withItems(db, rows);
}

/** One page of a record's pending approvals, newest first, with their items, and how many there are in all. */
export async function pendingApprovalsOnRecord(
  db: Db,
  record: RecordRef,
  page: { offset: number; limit: number },
): Promise<{ total: number; approvals: StoredApproval[] }> {
  const where = and(
    eq(approvals.workspaceId, record.workspaceId),
    eq(approvals.recordId, record.recordId),
    eq(approvals.objectType, record.objectType),
    eq(approvals.status, 'pending'),
  );
  const [totals] = await db.select({ total: count() }).from(approvals).where(where);
  const rows = await db
    .select()
    .from(approvals)
    .where(where)
    .orderBy(desc(approvals.createdAt), desc(approvals.id))
    .limit(page.limit)
    .offset(page.offset);
  if (rows.length === 0) return { total: totals?.total ?? 0, approvals: [] };
  const items = await db
    .select()
    .from(approvalItems)
    .where(
      inArray(
        approvalItems.approvalId,
        rows.map((row) => row.id),
      ),
    )
    .orderBy(asc(approvalItems.property));
  const byApproval = Map.groupBy(items, (item) => item.approvalId);
  return { total: totals?.total ?? 0, approvals: rows.map((row) => ({ ...row, items: byApproval.get(row.id) ?? [] })) };
}

/** The evidence each change set gave for this record, keyed by change set id. */
export async function evidenceForRecord(
  db: Db,
  workspaceId: string,
  recordId: string,
  changeSetIds: string[],
): Promise<Map<string, unknown>> {
  if (changeSetIds.length === 0) return new Map();
  const rows = await db
    .select({ changeSetId: changeRecords.changeSetId, evidence: changeRecords.evidence })
    .from(changeRecords)
    .where(
      and(
        eq(changeRecords.workspaceId, workspaceId),
        eq(changeRecords.recordId, recordId),
        inArray(changeRecords.changeSetId, changeSetIds),
      ),
    );
  return new Map(rows.map((row) => [row.changeSetId, row.evidence]));
}

/** Writes agents made on this record, newest change set first. */
export async function appliedChangesOnRecord(db: Db, record: RecordRef, limit: number) {
  return db
    .select({
      changeId: changes.id,
      changeSetId: changes.changeSetId,
      batchId: changeSets.batchId,
      agentId: changeSets.agentId,
      property: changes.property,
      before: changes.beforeValue,
      after: changes.proposedValue,
      at: changeSets.createdAt,
    })
    .from(changes)
    .innerJoin(changeSets, eq(changeSets.id, changes.changeSetId))
    .where(
      and(
        eq(changes.workspaceId, record.workspaceId),
        eq(changes.recordId, record.recordId),
        eq(changes.decision, 'applied'),
        eq(changeSets.objectType, record.objectType),
      ),
    )
    .orderBy(desc(changeSets.createdAt), asc(changes.ordinal))
    .limit(limit);
}

/**
 * Per property of the record, the newest applied change we made (issue 21's field provenance):
 * which agent, the evidence of its record change, the policy version, and who approved it when
 * it was held. One row per property, newest first by when it was decided.
 */
export async function fieldProvenanceOnRecord(db: Db, record: RecordRef) {
  const result = await db.execute(sql`
    select distinct on (c.property)
      c.property, c.id as change_id, c.change_set_id,
      case when ai.edited then ai.edited_value else c.proposed_value end as value, cs.agent_id, cs.batch_id,
      cs.policy_version, cs.created_at, cr.evidence, ai.approved_by
    from ${changes} c
    join ${changeSets} cs on cs.id = c.change_set_id
    left join ${changeRecords} cr on cr.change_set_id = c.change_set_id and cr.record_id = c.record_id
    left join ${approvalItems} ai on ai.change_id = c.id
    where c.workspace_id = ${record.workspaceId} and c.record_id = ${record.recordId}
      and cs.object_type = ${record.objectType} and c.decision = 'applied'
      and c.before_value is distinct from c.proposed_value
    order by c.property, cs.created_at desc, c.ordinal desc`);
  return (
    result as unknown as {
      rows: {
        property: string;
        change_id: string;
        change_set_id: string;
        value: string | null;
        agent_id: string;
        batch_id: string;
        policy_version: number;
        created_at: Date | string;
        evidence: unknown;
        approved_by: string[] | null;
      }[];
    }
  ).rows;
}

/** The newest batches with how many change sets, which agents, and how many approvals still wait. */
export async function recentBatches(
  db: Db,
  workspaceId: string,
  limit: number,
  /** The keyset cursor: the last batch of the page before (newest first). */
  before?: { lastAt: Date; batchId: string },
) {
  const pending = db
    .select({ batchId: approvals.batchId, pending: count().as('pending') })
    .from(approvals)
    .where(and(eq(approvals.workspaceId, workspaceId), eq(approvals.status, 'pending')))
    .groupBy(approvals.batchId)
    .as('pending_by_batch');
  return db
    .select({
      batchId: changeSets.batchId,
      changeSets: count(changeSets.id),
      agentIds: sql<string[]>`array_agg(distinct ${changeSets.agentId}::text)`,
      pendingApprovals: sql<number>`coalesce(max(${pending.pending}), 0)::int`,
      lastAt: max(changeSets.createdAt),
    })
    .from(changeSets)
    .leftJoin(pending, eq(pending.batchId, changeSets.batchId))
    .where(eq(changeSets.workspaceId, workspaceId))
    .groupBy(changeSets.batchId)
    .having(
      before === undefined
        ? undefined
        : sql`(max(${changeSets.createdAt}), ${changeSets.batchId}) < (${before.lastAt.toISOString()}::timestamptz, ${before.batchId})`,
    )
    .orderBy(desc(max(changeSets.createdAt)), desc(changeSets.batchId))
    .limit(limit);
}

/**
 * Audit events matching the filter, newest first (the export streams oldest first; a search wants
 * the latest), a page at a time: `beforeSeq` is the keyset cursor, the last seq of the page before.
 */
export async function searchAuditEvents(
  db: Db,
  workspaceId: string,
  filter: AuditFilter & { beforeSeq?: number | undefined; limit: number },
) {
  const where = auditFilterConditions(workspaceId, filter);
  if (filter.beforeSeq !== undefined) where.push(lt(auditEvents.seq, filter.beforeSeq));
  const rows = await db
    .select({
      seq: auditEvents.seq,
      occurredAt: auditEvents.occurredAt,
      type: auditEvents.type,
      batchId: auditEvents.batchId,
      recordId: auditEvents.recordId,
      property: auditEvents.property,
      actor: auditEvents.actor,
      before: auditEvents.before,
      after: auditEvents.after,
      actionId: sql<string | null>`${auditEvents.data}->>'actionId'`,
      personalValues: auditPersonalData.values,
    })
    .from(auditEvents)
    .leftJoin(auditPersonalData, personalOfEvent)
    .where(and(...where))
    .orderBy(desc(auditEvents.seq))
    .limit(filter.limit);
  return rows.map(shownWhole);
}
