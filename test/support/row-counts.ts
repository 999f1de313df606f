import { count } from 'drizzle-orm';
import type { Db } from '../../server/src/store/database.ts';
import { auditEvents, changeSets, changes, idempotencyKeys, usageCounters } from '../../server/src/store/schema.ts';

/** Row counts of everything a submission could store; "nothing stored" means these do not move. */
export async function submissionRowCounts(db: Db) {
  const tables = { changeSets, changes, auditEvents, idempotencyKeys, usageCounters };
  const entries = await Promise.all(Object.entries(tables).map(async ([name, table]) => [name, (await db.select({ n: count() }).from(table))[0]!.n] as const));
  return Object.fromEntries(entries);
}
