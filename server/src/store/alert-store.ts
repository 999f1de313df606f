import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, lte, notInArray, or, sql } from 'drizzle-orm';
import type { AlertRuleKind } from '../../../shared/alert-api.ts';
import type { Db, Tx } from './database.ts';
import { alertChannels, alertDeliveries, alertRules, alertSubjects } from './alert-schema.ts';
import { approvals } from './approval-schema.ts';
import { qaReviews } from './governance-schema.ts';
import { auditHeads, usageCounters } from './schema.ts';
import { workspaces } from './workspace-schema.ts';

export type AlertChannelRow = typeof alertChannels.$inferSelect;
export type AlertRuleRow = typeof alertRules.$inferSelect;
export type AlertDeliveryRow = typeof alertDeliveries.$inferSelect;

export async function insertAlertChannel(tx: Tx, row: typeof alertChannels.$inferInsert): Promise<AlertChannelRow> {
  const [stored] = await tx.insert(alertChannels).values(row).returning();
  return stored!;
}

export async function listAlertChannels(db: Db | Tx, workspaceId: string): Promise<AlertChannelRow[]> {
  return db
    .select()
    .from(alertChannels)
    .where(eq(alertChannels.workspaceId, workspaceId))
    .orderBy(asc(alertChannels.name));
}

export async function deleteAlertChannel(
  tx: Tx,
  key: { workspaceId: string; id: string },
): Promise<AlertChannelRow | undefined> {
  const [row] = await tx
    .delete(alertChannels)
    .where(and(eq(alertChannels.workspaceId, key.workspaceId), eq(alertChannels.id, key.id)))
    .returning();
  return row;
}

export async function insertAlertRule(tx: Tx, row: typeof alertRules.$inferInsert): Promise<AlertRuleRow> {
  const [stored] = await tx.insert(alertRules).values(row).returning();
  return stored!;
}

export async function listAlertRules(db: Db | Tx, workspaceId: string): Promise<AlertRuleRow[]> {
  return db.select().from(alertRules).where(eq(alertRules.workspaceId, workspaceId)).orderBy(asc(alertRules.name));
}

export async function deleteAlertRule(
  tx: Tx,
  key: { workspaceId: string; id: string },
): Promise<AlertRuleRow | undefined> {
  const [row] = await tx
    .delete(alertRules)
    .where(and(eq(alertRules.workspaceId, key.workspaceId), eq(alertRules.id, key.id)))
    .returning();
  return row;
}

/**
 * Takes one rule with something to look at, leasing it to `holder`: a rule of `chainKinds` whose
 * cursor is behind its workspace's chain head, or any other rule whose check is due. A removed
 * workspace's rules rest. SKIP LOCKED lets several servers take different rules at once; the lease
 * lapses if this server dies.
 */
export async function claimDueAlertRule(
  db: Db,
  claim: { holder: string; leaseMs: number; now: Date; chainKinds: readonly AlertRuleKind[] },
): Promise<AlertRuleRow | undefined> {
  return db.transaction(async (tx) => {
    const [due] = await tx
      .select({ id: alertRules.id })
      .from(alertRules)
      .innerJoin(auditHeads, eq(auditHeads.workspaceId, alertRules.workspaceId))
      .innerJoin(workspaces, eq(workspaces.id, alertRules.workspaceId))
      .where(
        and(
          isNull(workspaces.removedAt),
          or(isNull(alertRules.leaseExpiresAt), lt(alertRules.leaseExpiresAt, claim.now)),
          or(
            and(inArray(alertRules.kind, [...claim.chainKinds]), gt(auditHeads.seq, alertRules.cursorSeq)),
            and(notInArray(alertRules.kind, [...claim.chainKinds]), lte(alertRules.nextCheckAt, claim.now)),
          ),
        ),
      )
      .orderBy(asc(alertRules.nextCheckAt))
      .limit(1)
      .for('update', { of: alertRules, skipLocked: true });
    if (!due) return undefined;
    const [claimed] = await tx
      .update(alertRules)
      .set({ leaseHolder: claim.holder, leaseExpiresAt: new Date(claim.now.getTime() + claim.leaseMs) })
      .where(eq(alertRules.id, due.id))
      .returning();
    return claimed;
  });
}

/** Moves the rule on (its cursor, its next check) and gives its lease back; false when the lease was lost. */
export async function releaseAlertRule(
  db: Db | Tx,
  released: { id: string; holder: string; cursorSeq: number; nextCheckAt: Date },
): Promise<boolean> {
  const rows = await db
    .update(alertRules)
    .set({
      cursorSeq: sql`greatest(${alertRules.cursorSeq}, ${released.cursorSeq})`,
      nextCheckAt: released.nextCheckAt,
      leaseHolder: null,
      leaseExpiresAt: null,
    })
    .where(and(eq(alertRules.id, released.id), eq(alertRules.leaseHolder, released.holder)))
    .returning({ id: alertRules.id });
  return rows.length > 0;
}

/**
 * Counts one more alert for this rule and subject: `raise` when the last one raised is at least a
 * window old (or there is none), with how many were held back since; else it is held back too.
 */
export async function takeAlertWindow(
  tx: Tx,
  input: { ruleId: string; subject: string; now: Date; windowOpen: (lastRaisedAt: Date | null) => boolean },
): Promise<{ raise: boolean; suppressed: number }> {
  const [last] = await tx
    .select()
    .from(alertSubjects)
    .where(and(eq(alertSubjects.ruleId, input.ruleId), eq(alertSubjects.subject, input.subject)))
    .for('update');
  if (!input.windowOpen(last?.raisedAt ?? null)) {
    await tx
      .update(alertSubjects)
      .set({ suppressed: sql`${alertSubjects.suppressed} + 1` })
      .where(and(eq(alertSubjects.ruleId, input.ruleId), eq(alertSubjects.subject, input.subject)));
    return { raise: false, suppressed: 0 };
  }
  await tx
    .insert(alertSubjects)
    .values({ ruleId: input.ruleId, subject: input.subject, raisedAt: input.now, suppressed: 0 })
    .onConflictDoUpdate({
      target: [alertSubjects.ruleId, alertSubjects.subject],
      set: { raisedAt: input.now, suppressed: 0 },
    });
  return { raise: true, suppressed: last?.suppressed ?? 0 };
}

export async function insertAlertDeliveries(tx: Tx, rows: (typeof alertDeliveries.$inferInsert)[]): Promise<void> {
  if (rows.length > 0) await tx.insert(alertDeliveries).values(rows);
}

/** Takes one pending delivery that is due, with its channel, leased to `holder` (SKIP LOCKED). */
export async function claimDueAlertDelivery(
  db: Db,
  claim: { holder: string; leaseMs: number; now: Date },
): Promise<{ delivery: AlertDeliveryRow; channel: AlertChannelRow } | undefined> {
  return db.transaction(async (tx) => {
    const [due] = await tx
      .select({ id: alertDeliveries.id })
      .from(alertDeliveries)
      .where(
        and(
          eq(alertDeliveries.status, 'pending'),
          lte(alertDeliveries.nextAttemptAt, claim.now),
          or(isNull(alertDeliveries.leaseExpiresAt), lt(alertDeliveries.leaseExpiresAt, claim.now)),
        ),
      )
      .orderBy(asc(alertDeliveries.nextAttemptAt))
      .limit(1)
      .for('update', { skipLocked: true });
    if (!due) return undefined;
    const [delivery] = await tx
      .update(alertDeliveries)
      .set({ leaseHolder: claim.holder, leaseExpiresAt: new Date(claim.now.getTime() + claim.leaseMs) })
      .where(eq(alertDeliveries.id, due.id))
      .returning();
    const [channel] = await tx.select().from(alertChannels).where(eq(alertChannels.id, delivery!.channelId));
    return { delivery: delivery!, channel: channel! };
  });
}

/** Records an attempt's outcome and gives the lease back; false when the lease was lost meanwhile. */
export async function settleAlertDelivery(
  db: Db | Tx,
  outcome: {
    id: string;
    holder: string;
    status: 'pending' | 'sent' | 'failed';
    error: string | null;
    now: Date;
    nextAttemptAt: Date;
  },
): Promise<boolean> {
  const rows = await db
    .update(alertDeliveries)
    .set({
      status: outcome.status,
      attempts: sql`${alertDeliveries.attempts} + 1`,
      lastError: outcome.error,
      nextAttemptAt: outcome.nextAttemptAt,
      sentAt: outcome.status === 'sent' ? outcome.now : null,
      leaseHolder: null,
      leaseExpiresAt: null,
    })
    .where(and(eq(alertDeliveries.id, outcome.id), eq(alertDeliveries.leaseHolder, outcome.holder)))
    .returning({ id: alertDeliveries.id });
  return rows.length > 0;
}

export async function listAlertDeliveries(
  db: Db,
  query: { workspaceId: string; limit: number },
): Promise<AlertDeliveryRow[]> {
  return db
    .select()
    .from(alertDeliveries)
    .where(eq(alertDeliveries.workspaceId, query.workspaceId))
    .orderBy(desc(alertDeliveries.createdAt), asc(alertDeliveries.id))
    .limit(query.limit);
}

/** Per agent: proposals people decided since `since`, how many they rejected, and the batch of the newest rejection. */
export async function rejectionCounts(
  db: Db,
  query: { workspaceId: string; since: Date },
): Promise<{ agentId: string; decided: number; rejected: number; batchId: string | null }[]> {
  return db
    .select({
      agentId: approvals.agentId,
      decided: sql<number>`count(*)::int`,
      rejected: sql<number>`(count(*) filter (where ${approvals.status} = 'rejected'))::int`,
      batchId: sql<
        string | null
      >`(array_agg(${approvals.batchId} order by ${approvals.decidedAt} desc) filter (where ${approvals.status} = 'rejected'))[1]`,
    })
    .from(approvals)
    .where(
      and(
        eq(approvals.workspaceId, query.workspaceId),
        gte(approvals.decidedAt, query.since),
        inArray(approvals.status, ['approved', 'applied', 'rejected']),
      ),
    )
    .groupBy(approvals.agentId);
}

/** Per agent: QA samples reviewed since `since`, how many were wrong, and the record of the newest wrong one. */
export async function qaErrorCounts(
  db: Db,
  query: { workspaceId: string; since: Date },
): Promise<{ agentId: string; reviewed: number; wrong: number; record: string | null }[]> {
  return db
    .select({
      agentId: qaReviews.agentId,
      reviewed: sql<number>`count(*)::int`,
      wrong: sql<number>`(count(*) filter (where ${qaReviews.status} = 'wrong'))::int`,
      record: sql<
        string | null
      >`(array_agg(${qaReviews.objectType} || '/' || ${qaReviews.recordId} order by ${qaReviews.reviewedAt} desc) filter (where ${qaReviews.status} = 'wrong'))[1]`,
    })
    .from(qaReviews)
    .where(
      and(
        eq(qaReviews.workspaceId, query.workspaceId),
        gte(qaReviews.reviewedAt, query.since),
        inArray(qaReviews.status, ['correct', 'wrong']),
      ),
    )
    .groupBy(qaReviews.agentId);
}

/** Approvals still pending that were created before `before`: how many, and the oldest. */
export async function approvalsWaitingSince(
  db: Db,
  query: { workspaceId: string; before: Date },
): Promise<{ count: number; oldest: Date | null }> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int`, oldest: sql<string | null>`min(${approvals.createdAt})` })
    .from(approvals)
    .where(
      and(
        eq(approvals.workspaceId, query.workspaceId),
        eq(approvals.status, 'pending'),
        lt(approvals.createdAt, query.before),
      ),
    );
  return { count: row?.count ?? 0, oldest: row?.oldest ? new Date(row.oldest) : null };
}

/**
 * Approvals people approved whose values are not in the CRM: still `approved` though decided
 * before `approvedBefore` (the write failed and waits for its retry, or has not run), or `stale`
 * (the record changed first, nothing was written) and decided since `staleSince`. The same rows
 * the console's inbox lists as approved but not written.
 */
export async function approvalsUnwritten(
  db: Db,
  query: { workspaceId: string; approvedBefore: Date; staleSince: Date },
): Promise<{ failing: number; stale: number; oldest: Date | null }> {
  const [row] = await db
    .select({
      failing: sql<number>`count(*) filter (where ${approvals.status} = 'approved')::int`,
      stale: sql<number>`count(*) filter (where ${approvals.status} = 'stale')::int`,
      oldest: sql<string | null>`min(${approvals.decidedAt})`,
    })
    .from(approvals)
    .where(
      and(
        eq(approvals.workspaceId, query.workspaceId),
        sql`cardinality(${approvals.decidedBy}) > 0`,
        lt(approvals.decidedAt, query.approvedBefore),
        or(
          eq(approvals.status, 'approved'),
          and(eq(approvals.status, 'stale'), gte(approvals.decidedAt, query.staleSince)),
        ),
      ),
    );
  return { failing: row?.failing ?? 0, stale: row?.stale ?? 0, oldest: row?.oldest ? new Date(row.oldest) : null };
}

/** Each agent's field writes counted on `day` (the policy's calendar day). */
export async function agentWritesOn(db: Db, query: { workspaceId: string; day: string }): Promise<Map<string, number>> {
  const rows = await db
    .select({ subject: usageCounters.subject, count: usageCounters.count })
    .from(usageCounters)
    .where(
      and(
        eq(usageCounters.workspaceId, query.workspaceId),
        eq(usageCounters.scope, 'agent_writes'),
        eq(usageCounters.day, query.day),
      ),
    );
  return new Map(rows.map((row) => [row.subject, row.count]));
}
