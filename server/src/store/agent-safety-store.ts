import { and, asc, desc, eq, gte, inArray } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { agentRegressionCases, agentSafety, approvalItems, approvals, changeRecords, usageCounters } from './schema.ts';

export type AgentSafetyRow = typeof agentSafety.$inferSelect;
export type RegressionCaseRow = typeof agentRegressionCases.$inferSelect;

export async function findAgentSafety(
  db: Db | Tx,
  workspaceId: string,
  agentId: string,
): Promise<AgentSafetyRow | undefined> {
  const [row] = await db
    .select()
    .from(agentSafety)
    .where(and(eq(agentSafety.workspaceId, workspaceId), eq(agentSafety.agentId, agentId)));
  return row;
}

/** Sets the given columns of the agent's row, creating it with the others empty. */
export async function updateAgentSafety(
  db: Db | Tx,
  key: { workspaceId: string; agentId: string },
  set: Partial<Omit<AgentSafetyRow, 'workspaceId' | 'agentId'>>,
): Promise<void> {
  await db
    .insert(agentSafety)
    .values({ ...key, ...set })
    .onConflictDoUpdate({ target: [agentSafety.workspaceId, agentSafety.agentId], set });
}

export async function listRegressionCases(
  db: Db | Tx,
  workspaceId: string,
  agentId: string,
): Promise<RegressionCaseRow[]> {
  return db
    .select()
    .from(agentRegressionCases)
    .where(and(eq(agentRegressionCases.workspaceId, workspaceId), eq(agentRegressionCases.agentId, agentId)))
    .orderBy(asc(agentRegressionCases.ordinal));
}

/** The set is replaced whole: an operator edits it as one document. */
export async function replaceRegressionCases(
  tx: Tx,
  key: { workspaceId: string; agentId: string },
  rows: Omit<RegressionCaseRow, 'workspaceId' | 'agentId'>[],
): Promise<void> {
  await tx
    .delete(agentRegressionCases)
    .where(and(eq(agentRegressionCases.workspaceId, key.workspaceId), eq(agentRegressionCases.agentId, key.agentId)));
  if (rows.length > 0) await tx.insert(agentRegressionCases).values(rows.map((row) => ({ ...key, ...row })));
}

/** The agent's writes counted toward its daily cap, per day key; days without any are absent. */
export async function agentWritesByDay(
  db: Db | Tx,
  query: { workspaceId: string; agentId: string; days: string[] },
): Promise<Map<string, number>> {
  const rows = await db
    .select({ day: usageCounters.day, count: usageCounters.count })
    .from(usageCounters)
    .where(
      and(
        eq(usageCounters.workspaceId, query.workspaceId),
        eq(usageCounters.scope, 'agent_writes'),
        eq(usageCounters.subject, query.agentId),
        inArray(usageCounters.day, query.days),
      ),
    );
  return new Map(rows.map((row) => [row.day, row.count]));
}

export interface RejectedWriteRow {
  changeSetId: string;
  objectType: string;
  recordId: string;
  property: string;
  beforeValue: string | null;
  proposedValue: string | null;
  evidence: unknown;
}

/** The agent's held writes since `since` that people rejected, newest first, at most `limit`. */
export async function rejectedWritesSince(
  db: Db,
  query: { workspaceId: string; agentId: string; since: Date; limit: number },
): Promise<RejectedWriteRow[]> {
  return db
    .select({
      changeSetId: approvals.changeSetId,
      objectType: approvals.objectType,
      recordId: approvals.recordId,
      property: approvalItems.property,
      beforeValue: approvalItems.beforeValue,
      proposedValue: approvalItems.proposedValue,
      evidence: changeRecords.evidence,
    })
    .from(approvals)
    .innerJoin(approvalItems, eq(approvalItems.approvalId, approvals.id))
    .innerJoin(
      changeRecords,
      and(eq(changeRecords.changeSetId, approvals.changeSetId), eq(changeRecords.recordId, approvals.recordId)),
    )
    .where(
      and(
        eq(approvals.workspaceId, query.workspaceId),
        eq(approvals.agentId, query.agentId),
        gte(approvals.createdAt, query.since),
        eq(approvalItems.status, 'rejected'),
      ),
    )
    .orderBy(desc(approvals.createdAt))
    .limit(query.limit);
}
