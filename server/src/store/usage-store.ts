import { and, eq, or, sql } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { usageCounters } from './schema.ts';

type UsageScope = (typeof usageCounters.$inferSelect)['scope'];

/** Today's counts for the given subjects; absent subjects count zero. Read under the audit chain lock. */
export async function readUsage(
  tx: Tx,
  query: { workspaceId: string; scope: UsageScope; day: string; subjects: string[] },
): Promise<Map<string, number>> {
  const [counts] = await readUsages(tx, { ...query, subjects: [[query.scope, query.subjects]] });
  return counts!;
}

/** Today's counts of several scopes' subjects in one query, a map per scope in the order asked. */
export async function readUsages<const Asked extends readonly (readonly [UsageScope, string[]])[]>(
  tx: Tx,
  query: { workspaceId: string; day: string; subjects: Asked },
): Promise<{ [Scope in keyof Asked]: Map<string, number> }> {
  const counts = query.subjects.map(() => new Map<string, number>()) as { [Scope in keyof Asked]: Map<string, number> };
  const asked = query.subjects.filter(([, subjects]) => subjects.length > 0);
  if (asked.length === 0) return counts;
  const rows = await tx
    .select({ scope: usageCounters.scope, subject: usageCounters.subject, count: usageCounters.count })
    .from(usageCounters)
    .where(
      and(
        eq(usageCounters.workspaceId, query.workspaceId),
        eq(usageCounters.day, query.day),
        or(
          ...asked.map(([scope, subjects]) =>
            and(eq(usageCounters.scope, scope), sql`${usageCounters.subject} = any(${sql.param(subjects)}::text[])`),
          ),
        ),
      ),
    );
  for (const row of rows)
    counts[query.subjects.findIndex(([scope]) => scope === row.scope)]!.set(row.subject, row.count);
  return counts;
}

/** Adds to today's counters in one statement (a change set can touch thousands of records). */
export async function addUsage(
  tx: Db | Tx,
  query: { workspaceId: string; scope: UsageScope; day: string; increments: Map<string, number> },
): Promise<void> {
  await addUsages(tx, { ...query, increments: [[query.scope, query.increments]] });
}

/** Adds to today's counters of several scopes in one statement. */
export async function addUsages(
  tx: Db | Tx,
  query: { workspaceId: string; day: string; increments: readonly (readonly [UsageScope, Map<string, number>])[] },
): Promise<void> {
  const rows = query.increments.flatMap(([scope, increments]) =>
    [...increments]
      .filter(([, count]) => count > 0)
      .map(([subject, count]) => ({
        workspace_id: query.workspaceId,
        scope,
        subject,
        day: query.day,
        count,
      })),
  );
  if (rows.length === 0) return;
  await tx.execute(sql`
    insert into usage_counters (workspace_id, scope, subject, day, count)
    select workspace_id, scope, subject, day, count
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(workspace_id uuid, scope text, subject text, day text, count integer)
    on conflict (workspace_id, scope, subject, day) do update set count = usage_counters.count + excluded.count`);
}
