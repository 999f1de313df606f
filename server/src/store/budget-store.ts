import { and, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { agentSpend, usageCounters } from './schema.ts';

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
