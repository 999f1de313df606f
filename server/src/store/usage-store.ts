import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Tx } from './database.ts';
import { usageCounters } from './schema.ts';

type UsageScope = (typeof usageCounters.$inferSelect)['scope'];

/** Today's counts for the given subjects; absent subjects count zero. Read under the audit chain lock. */
export async function readUsage(tx: Tx, query: { workspaceId: string; scope: UsageScope; day: string; subjects: string[] }): Promise<Map<string, number>> {
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
        inArray(usageCounters.subject, query.subjects),
      ),
    );
  for (const row of rows) counts.set(row.subject, row.count);
  return counts;
}

export async function addUsage(tx: Tx, query: { workspaceId: string; scope: UsageScope; day: string; increments: Map<string, number> }): Promise<void> {
  const rows = [...query.increments]
    .filter(([, count]) => count > 0)
    .map(([subject, count]) => ({ workspaceId: query.workspaceId, scope: query.scope, subject, day: query.day, count }));
  if (rows.length === 0) return;
  await tx
    .insert(usageCounters)
    .values(rows)
    .onConflictDoUpdate({
      target: [usageCounters.workspaceId, usageCounters.scope, usageCounters.subject, usageCounters.day],
      set: { count: sql`${usageCounters.count} + excluded.count` },
    });
}
