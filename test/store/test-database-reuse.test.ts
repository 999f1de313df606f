import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createWorkspace } from '../../server/src/services/governance/index.ts';
import { ADMIN } from '../support/harness.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { testDeps } from '../support/deps.ts';

// The suite's databases are reused between tests (test/support/database.ts): a test must still
// start from an empty, migrated database whatever the test before it did.
describe('a test database handed on to the next test', () => {
  it('comes back empty, and the test before can no longer reach it', async () => {
    const first = await createTestDatabase();
    await connectPortal(first);
    expect(await rowsInAllTables(first)).toBeGreaterThan(0);
    await first.close();
    await expect(first.db.execute(sql`select 1`)).rejects.toThrow();

    const second = await createTestDatabase();
    try {
      expect(await rowsInAllTables(second)).toBe(0);
      // The same portal again: a row left behind would make this a conflict.
      await connectPortal(second);
      expect(await auditGuard(second)).toBe('O');
    } finally {
      await second.close();
    }
  });

  it('is thrown away, not handed on, when the test left the schema changed', async () => {
    const first = await createTestDatabase();
    await first.db.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
    await first.close();

    const second = await createTestDatabase();
    try {
      expect(await auditGuard(second)).toBe('O');
    } finally {
      await second.close();
    }
  });
});

async function connectPortal(database: TestDatabase): Promise<void> {
  await createWorkspace(
    testDeps(database.db),
    { name: 'reused', hubspotPortalId: '9001', hubspotToken: 'pat-test' },
    ADMIN,
  );
}

async function rowsInAllTables(database: TestDatabase): Promise<number> {
  const tables = await database.db.execute(sql`select tablename from pg_tables where schemaname = 'public'`);
  let total = 0;
  for (const { tablename } of (tables as unknown as { rows: { tablename: string }[] }).rows) {
    const count = await database.db.execute(sql.raw(`select count(*)::int as n from "${tablename}"`));
    total += (count as unknown as { rows: { n: number }[] }).rows[0]?.n ?? 0;
  }
  return total;
}

/** 'O' when the audit log's append-only trigger is on, 'D' when a test switched it off. */
async function auditGuard(database: TestDatabase): Promise<string> {
  const state = await database.db.execute(
    sql`select tgenabled::text as state from pg_trigger where tgname = 'audit_events_append_only'`,
  );
  return (state as unknown as { rows: { state: string }[] }).rows[0]?.state ?? 'missing';
}
