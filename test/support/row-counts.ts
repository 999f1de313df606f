import { count, ne, sql } from 'drizzle-orm';
import type { Db } from '../../server/src/store/database.ts';
import { auditEvents, changeSets, changes, idempotencyKeys, usageCounters } from '../../server/src/store/schema.ts';

/**
 * Row counts of everything a submission could store; "nothing stored" means these do not move. The
 * CRM calls a refused request made are still metered against the agent's budget: that counter is left out.
 */
export async function submissionRowCounts(db: Db) {
  const tables = { changeSets, changes, auditEvents, idempotencyKeys };
  const entries = await Promise.all(
    Object.entries(tables).map(
      async ([name, table]) => [name, (await db.select({ n: count() }).from(table))[0]!.n] as const,
    ),
  );
  const [usage] = await db.select({ n: count() }).from(usageCounters).where(ne(usageCounters.scope, 'agent_crm_calls'));
  return { ...Object.fromEntries(entries), usageCounters: usage!.n };
}

/** Row counts of every table of the schema, whatever later migrations add: "a refused request stored nothing" at its widest. */
export async function allRowCounts(db: Db): Promise<Record<string, number>> {
  const listed = await db.execute(
    sql`select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name not like '%migrations%' order by table_name`,
  );
  const names = (listed as unknown as { rows: { table_name: string }[] }).rows.map((row) => row.table_name);
  const counts: Record<string, number> = {};
  for (const name of names) {
    const result = await db.execute(sql`select count(*)::int as n from ${sql.identifier(name)}`);
    counts[name] = (result as unknown as { rows: { n: number }[] }).rows[0]!.n;
  }
  return counts;
}
