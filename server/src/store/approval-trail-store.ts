import { and, asc, eq, or, sql } from 'drizzle-orm';
import { type ApprovalTrailEvent, type ApprovedValue, approvedInTrail } from '../domain/approved-in-trail.ts';
import { digestOf } from '../domain/audit-personal.ts';
import { personalOfEvent, shownWhole } from './audit-store.ts';
import type { Db, Tx } from './database.ts';
import { auditEvents, auditPersonalData } from './schema.ts';

/**
 * Per approval, what the audit log shows a person approving writing, property by property
 * (domain/approved-in-trail.ts): read from its `approval.created` event and its `approval.decided`
 * events of kind `approve`, with the personal values kept apart while they are kept.
 */
export async function approvedInAudit(
  db: Db | Tx,
  workspaceId: string,
  approvals: readonly { id: string; objectType: string; recordId: string }[],
): Promise<Map<string, Map<string, ApprovedValue>>> {
  const approved = new Map<string, Map<string, ApprovedValue>>();
  if (approvals.length === 0) return approved;
  const recordIds = [...new Set(approvals.map((approval) => approval.recordId))];
  const approvalIds = approvals.map((approval) => approval.id);
  // Through the record index, in chain order: a later edit replaces an earlier one.
  const rows = await db
    .select({
      approvalId: sql<string>`${auditEvents.data}->>'approvalId'`,
      objectType: auditEvents.objectType,
      recordId: auditEvents.recordId,
      type: auditEvents.type,
      before: auditEvents.before,
      after: auditEvents.after,
      data: auditEvents.data,
      personalValues: auditPersonalData.values,
    })
    .from(auditEvents)
    .leftJoin(auditPersonalData, personalOfEvent)
    .where(
      and(
        eq(auditEvents.workspaceId, workspaceId),
        sql`${auditEvents.recordId} = any(${sql.param(recordIds)}::text[])`,
        or(
          eq(auditEvents.type, 'approval.created'),
          and(eq(auditEvents.type, 'approval.decided'), sql`${auditEvents.data}->>'kind' = 'approve'`),
        ),
        sql`${auditEvents.data}->>'approvalId' = any(${sql.param(approvalIds)}::text[])`,
      ),
    )
    .orderBy(asc(auditEvents.seq));
  // An approval's events name its record: a row moved to another record (or type) has none there.
  const subject = new Map(approvals.map((approval) => [approval.id, `${approval.objectType}:${approval.recordId}`]));
  const events = Map.groupBy(
    rows
      .filter((row) => subject.get(row.approvalId) === `${row.objectType}:${row.recordId}`)
      .map((row): ApprovalTrailEvent & { approvalId: string } => ({
        ...shownWhole(row),
        personalGone: row.personalValues === null && digestOf(row.data) !== undefined,
      })),
    (event) => event.approvalId,
  );
  for (const [approvalId, ofApproval] of events) approved.set(approvalId, approvedInTrail(ofApproval));
  return approved;
}
