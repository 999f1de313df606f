import { and, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { usageCounters } from './schema.ts';

type UsageScope = (typeof usageCounters.$inferSelect)['scope'];

/** Today's counts for the given subjects; absent subjects count zero. Read under the audit chain lock. */
export async function readUsage(
  tx: Tx,
  query: { workspaceId: string; scope: UsageScope; day: string; subjects: string[] },
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (query.subjects.length === 0) return counts;
  const rows = await tx
    .select({ subject: usageCounters.subject, count: usageCounters.count })
    .from(usageCounters)
    .where(
      and(
        eq(usageCounters.workspaceId, query.workspaceId),
        eq(usageCounters.scope, query.scope),
        eq(usageCounters.day, query.day),
        sql`${usageCounters.subject} = any(${sql.param(query.subjects)}::text[])`,
      ),
    );
  for (const row of rows) counts.set(row.subject, row.count);
  return counts;
}

/** Adds to today's counters in one statement (a change set can touch thousands of records). */
export async function addUsage(
  tx: Db | Tx,
  query: { workspaceId: string; scope: UsageScope; day: string; increments: Map<string, number> },
): Promise<void> {
  const rows = [...query.increments]
    .filter(([, count]) => count > 0)
    .map(([subject, count]) => ({
      workspace_id: query.workspaceId,
      scope: query.scope,
      subject,
      day: query.day,
      count,
    }));
  if (rows.length === 0) return;
  await tx.execute(sql`
    insert into usage_counters (workspace_id, scope, subject, day, count)
    select workspace_id, scope, subject, day, count
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(workspace_id uuid, scope text, subject text, day text, count integer)
    on conflict (workspace_id, scope, subject, day) do update set count = usage_counters.count + excluded.count`);
}
