import { and, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { agentSpend, auditEvents, usageCounters } from './schema.ts';

/** One agent's and its whole workspace's count for a day. */
export interface AgentAndWorkspace {
  agent: number;
  workspace: number;
}

/** CRM calls made for the agent today, and for all the workspace's agents. */
export async function readCrmCalls(
  db: Db | Tx,
  query: { workspaceId: string; agentId: string; day: string },
): Promise<AgentAndWorkspace> {
  const [row] = await db
    .select({
      agent: sql<number>`coalesce(sum(${usageCounters.count}) filter (where ${usageCounters.subject} = ${query.agentId}), 0)::int`,
      workspace: sql<number>`coalesce(sum(${usageCounters.count}), 0)::int`,
    })
    .from(usageCounters)
    .where(
      and(
        eq(usageCounters.workspaceId, query.workspaceId),
        eq(usageCounters.scope, 'agent_crm_calls'),
        eq(usageCounters.day, query.day),
      ),
    );
  return { agent: Number(row?.agent ?? 0), workspace: Number(row?.workspace ?? 0) };
}

/** Spend in millionths of `currency` the agent reported today, and all the workspace's agents. */
export async function readSpend(
  db: Db | Tx,
  query: { workspaceId: string; agentId: string; day: string; currency: string },
): Promise<AgentAndWorkspace> {
  const [row] = await db
    .select({
      agent: sql<string>`coalesce(sum(${agentSpend.micros}) filter (where ${agentSpend.agentId} = ${query.agentId}), 0)::text`,
      workspace: sql<string>`coalesce(sum(${agentSpend.micros}), 0)::text`,
    })
    .from(agentSpend)
    .where(
      and(
        eq(agentSpend.workspaceId, query.workspaceId),
        eq(agentSpend.day, query.day),
        eq(agentSpend.currency, query.currency),
      ),
    );
  return { agent: Number(row?.agent ?? 0), workspace: Number(row?.workspace ?? 0) };
}

export async function addSpend(
  tx: Tx,
  row: { workspaceId: string; agentId: string; day: string; currency: string; micros: number },
): Promise<void> {
  if (row.micros <= 0) return;
  await tx
    .insert(agentSpend)
    .values(row)
    .onConflictDoUpdate({
      target: [agentSpend.workspaceId, agentSpend.agentId, agentSpend.day, agentSpend.currency],
      set: { micros: sql`${agentSpend.micros} + excluded.micros` },
    });
}

/** Gives back a reservation (`addSpend`) of a request that failed or replayed an earlier one. */
export async function releaseSpend(
  db: Db | Tx,
  row: { workspaceId: string; agentId: string; day: string; currency: string; micros: number },
): Promise<void> {
  if (row.micros <= 0) return;
  await db
    .update(agentSpend)
    .set({ micros: sql`${agentSpend.micros} - ${row.micros}` })
    .where(
      and(
        eq(agentSpend.workspaceId, row.workspaceId),
        eq(agentSpend.agentId, row.agentId),
        eq(agentSpend.day, row.day),
        eq(agentSpend.currency, row.currency),
      ),
    );
}

/**
 * Serialises spend reservations in a workspace for a day until the transaction ends. The
 * workspace's spend budget sums every agent's rows, so no one row's lock would cover it; an
 * advisory lock holds up no other writer of those rows' table.
 */
export async function lockSpend(tx: Tx, key: { workspaceId: string; day: string }): Promise<void> {
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`agent_spend:${key.workspaceId}:${key.day}`}, 0))`,
  );
}

/** The budgets audited as reached on `day` (`agent.budget_reached`), with the agent each was reached for. */
export async function budgetsAuditedAsReached(
  db: Db | Tx,
  query: { workspaceId: string; day: string },
): Promise<{ budget: string | null; agentId: string | null }[]> {
  return db
    .select({ budget: sql<string | null>`${auditEvents.data}->>'budget'`, agentId: auditEvents.agentId })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.workspaceId, query.workspaceId),
        eq(auditEvents.type, 'agent.budget_reached'),
        sql`${auditEvents.data}->>'day' = ${query.day}`,
      ),
    );
}

/** Each agent's CRM calls and spend (per currency, in millionths) on a day, for the admin's screens. */
export async function budgetUsageByAgent(
  db: Db | Tx,
  workspaceId: string,
  day: string,
): Promise<Map<string, { crmCalls: number; spend: { currency: string; micros: number }[] }>> {
  const usage = new Map<string, { crmCalls: number; spend: { currency: string; micros: number }[] }>();
  const entry = (agentId: string) => {
    const found = usage.get(agentId) ?? { crmCalls: 0, spend: [] };
    usage.set(agentId, found);
    return found;
  };
  const calls = await db
    .select({ agentId: usageCounters.subject, count: usageCounters.count })
    .from(usageCounters)
    .where(
      and(
        eq(usageCounters.workspaceId, workspaceId),
        eq(usageCounters.scope, 'agent_crm_calls'),
        eq(usageCounters.day, day),
      ),
    );
  for (const row of calls) entry(row.agentId).crmCalls = row.count;
  const spend = await db
    .select()
    .from(agentSpend)
    .where(and(eq(agentSpend.workspaceId, workspaceId), eq(agentSpend.day, day)));
  for (const row of spend) entry(row.agentId).spend.push({ currency: row.currency, micros: Number(row.micros) });
  return usage;
}
