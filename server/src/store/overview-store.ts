import { and, count, desc, eq, gte, inArray, sql } from 'drizzle-orm';
import type { Db } from './database.ts';
import { agents, approvals, auditEvents, changes, changeSets, qaReviews } from './schema.ts';

/** Reads behind the console's Overview (issue 19): aggregates done by the database, each scoped to its workspace. */

const day = (column: unknown) => sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD')`;

/** Field changes per UTC day and decision, since `since`. */
export async function decisionsPerDay(db: Db, workspaceId: string, since: Date) {
  const dayOf = day(changeSets.createdAt);
  return db
    .select({ day: dayOf, decision: changes.decision, count: count() })
    .from(changes)
    .innerJoin(changeSets, and(eq(changeSets.id, changes.changeSetId), eq(changeSets.workspaceId, workspaceId)))
    .where(and(eq(changes.workspaceId, workspaceId), gte(changeSets.createdAt, since)))
    .groupBy(dayOf, changes.decision)
    .orderBy(dayOf);
}

/** Approvals people decided since `since`, per agent: how many, and how many they rejected. */
export async function approvalOutcomesByAgent(db: Db, workspaceId: string, since: Date) {
  return db
    .select({
      agentId: approvals.agentId,
      decided: count(),
      rejected: sql<number>`count(*) filter (where ${approvals.status} = 'rejected')::int`,
    })
    .from(approvals)
    .where(
      and(
        eq(approvals.workspaceId, workspaceId),
        gte(approvals.decidedAt, since),
        inArray(approvals.status, ['approved', 'applied', 'rejected']),
      ),
    )
    .groupBy(approvals.agentId);
}

/** QA reviews done since `since`, per agent: how many, and how many found the applied value wrong. */
export async function qaOutcomesByAgent(db: Db, workspaceId: string, since: Date) {
  return db
    .select({
      agentId: qaReviews.agentId,
      reviewed: count(),
      wrong: sql<number>`count(*) filter (where ${qaReviews.status} = 'wrong')::int`,
    })
    .from(qaReviews)
    .where(
      and(
        eq(qaReviews.workspaceId, workspaceId),
        gte(qaReviews.reviewedAt, since),
        inArray(qaReviews.status, ['correct', 'wrong']),
      ),
    )
    .groupBy(qaReviews.agentId);
}

export async function agentNames(db: Db, workspaceId: string) {
  return db.select({ id: agents.id, name: agents.name }).from(agents).where(eq(agents.workspaceId, workspaceId));
}

/** The properties agents' applied writes changed most since `since`. */
export async function topAppliedProperties(db: Db, workspaceId: string, since: Date, limit: number) {
  const applied = count();
  return db
    .select({ objectType: changeSets.objectType, property: changes.property, applied })
    .from(changes)
    .innerJoin(changeSets, and(eq(changeSets.id, changes.changeSetId), eq(changeSets.workspaceId, workspaceId)))
    .where(and(eq(changes.workspaceId, workspaceId), eq(changes.decision, 'applied'), gte(changeSets.createdAt, since)))
    .groupBy(changeSets.objectType, changes.property)
    .orderBy(desc(applied), changes.property)
    .limit(limit);
}

/** Audit events of one type per UTC day since `since`. */
export async function auditEventsPerDay(db: Db, workspaceId: string, type: string, since: Date) {
  const dayOf = day(auditEvents.occurredAt);
  return db
    .select({ day: dayOf, count: count() })
    .from(auditEvents)
    .where(
      and(eq(auditEvents.workspaceId, workspaceId), eq(auditEvents.type, type), gte(auditEvents.occurredAt, since)),
    )
    .groupBy(dayOf)
    .orderBy(dayOf);
}

/** Kill switches engaged by the named system actor since `since`, newest first. */
export async function killSwitchesEngagedBy(
  db: Db,
  workspaceId: string,
  actorName: string,
  since: Date,
  limit: number,
) {
  return db
    .select({
      seq: auditEvents.seq,
      occurredAt: auditEvents.occurredAt,
      scope: sql<string>`${auditEvents.data}->>'scope'`,
      target: sql<string | null>`${auditEvents.data}->>'target'`,
      reason: sql<string>`coalesce(${auditEvents.after}->>'reason', '')`,
    })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.workspaceId, workspaceId),
        eq(auditEvents.type, 'kill_switch.engaged'),
        gte(auditEvents.occurredAt, since),
        sql`${auditEvents.actor}->>'name' = ${actorName}`,
      ),
    )
    .orderBy(desc(auditEvents.seq))
    .limit(limit);
}
