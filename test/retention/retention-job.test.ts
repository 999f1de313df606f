import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, type ServiceDeps, withAuditChain } from '../../server/src/services/common/index.ts';
import { createAgent, createWorkspace, exportAudit, verifyAudit } from '../../server/src/services/governance/index.ts';
import {
  type RetentionJob,
  runDueRetention,
  setRetention,
  showRetention,
} from '../../server/src/services/retention/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { testDeps } from '../support/deps.ts';

const admin: Actor = { type: 'admin', via: 'cli', name: 'tester' };
const DAY = 86_400_000;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let deps: ServiceDeps;
let now = new Date('2026-06-01T00:00:00Z');
let eventId = 0;

const job = (holder: string, overrides: Partial<RetentionJob> = {}): RetentionJob => ({
  holder,
  leaseMs: 60_000,
  batchSize: 2,
  batchesPerRound: 1_000,
  everyMs: DAY,
  ...overrides,
});

/** One of each kind of row retention governs, as of `at`, in one workspace. */
async function seed(workspaceId: string, agentId: string, at: Date): Promise<void> {
  const db = database.db;
  const iso = at.toISOString();
  const changeSetId = randomUUID();
  await db.execute(sql`insert into change_sets (id, workspace_id, agent_id, batch_id, object_type, policy_version, status, created_at)
    values (${changeSetId}, ${workspaceId}, ${agentId}, 'b', 'contacts', 1, 'completed', ${iso})`);
  for (const [ordinal, decision] of ['applied', 'denied'].entries())
    await db.execute(sql`insert into changes (id, workspace_id, change_set_id, ordinal, record_id, property, before_value, proposed_value, decision, reasons)
      values (${randomUUID()}, ${workspaceId}, ${changeSetId}, ${ordinal}, '101', 'email', 'a@old.example', 'a@new.example', ${decision}, '{}')`);
  await db.execute(sql`insert into change_records (workspace_id, change_set_id, record_id, evidence)
    values (${workspaceId}, ${changeSetId}, '101', '{}')`);
  const actionId = randomUUID();
  await db.execute(sql`insert into actions (id, workspace_id, agent_id, kind, object_type, record_id, policy_version, status, reasons, content, evidence, recipient_email, created_at)
    values (${actionId}, ${workspaceId}, ${agentId}, 'send_email', 'contacts', '101', 1, 'sent', '{}', '{"to":"a@new.example"}', '{}', 'a@new.example', ${iso})`);
  await db.execute(sql`insert into action_outcomes (id, workspace_id, action_id, outcome, reported_at)
    values (${randomUUID()}, ${workspaceId}, ${actionId}, 'sent', ${iso})`);
  // A held draft stays whatever its age: a person has yet to decide it.
  await db.execute(sql`insert into actions (id, workspace_id, agent_id, kind, object_type, record_id, policy_version, status, reasons, content, evidence, created_at)
    values (${randomUUID()}, ${workspaceId}, ${agentId}, 'create_note', 'contacts', '101', 1, 'pending', '{}', '{"body":"x"}', '{}', ${iso})`);
  eventId += 1;
  await db.execute(sql`insert into webhook_events (workspace_id, event_id, subscription_type, object_id, occurred_at, received_at, payload, processed_at)
    values (${workspaceId}, ${eventId}, 'contact.propertyChange', '101', ${iso}, ${iso}, '{}', ${iso})`);
  await db.execute(sql`insert into record_property_changes (workspace_id, event_id, object_type, record_id, property, value, occurred_at, kind)
    values (${workspaceId}, ${eventId}, 'contacts', '101', 'email', 'a@new.example', ${iso}, 'person')`);
  const before = now;
  now = at;
  await withAuditChain(deps.db, workspaceId, deps.clock, async (_tx, audit) => {
    audit.append({
      type: 'change.applied',
      actor: { type: 'agent', name: 'enricher' },
      objectType: 'contacts',
      recordId: '101',
      after: { email: 'a@new.example' },
    });
  });
  now = before;
}

async function counts(workspaceId: string): Promise<Record<string, number>> {
  const tables = [
    'changes',
    'change_records',
    'actions',
    'action_outcomes',
    'webhook_events',
    'record_property_changes',
    'audit_personal_data',
  ];
  const result: Record<string, number> = {};
  for (const table of tables) {
    const { rows } = (await database.db.execute(
      sql`select count(*)::int as n from ${sql.identifier(table)} where workspace_id = ${workspaceId}`,
    )) as unknown as { rows: { n: number }[] };
    result[table] = rows[0]!.n;
  }
  return result;
}

async function retentionEvents(workspaceId: string): Promise<Record<string, any>[]> {
  let text = '';
  for await (const chunk of exportAudit(deps, workspaceId, { type: 'retention.completed' }, 'ndjson')) text += chunk;
  return text.trim() === ''
    ? []
    : text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
}

async function setUp(name: string, portal: string): Promise<string> {
  const workspaceId = (await createWorkspace(deps, { name, hubspotPortalId: portal, hubspotToken: 'pat' }, admin)).id;
  const agentId = (await createAgent(deps, workspaceId, { name: 'enricher', role: 'enrichment' }, admin)).id;
  await seed(workspaceId, agentId, new Date(now.getTime() - 100 * DAY));
  await seed(workspaceId, agentId, new Date(now.getTime() - 95 * DAY));
  await seed(workspaceId, agentId, new Date(now.getTime() - 10 * DAY));
  return workspaceId;
}

const ALL_30_DAYS = { changeRecordsDays: 30, draftsDays: 30, webhookPayloadsDays: 30, auditPersonalDataDays: 30 };
/** What one seed leaves after retention removed the old ones: the held draft of each seed stays. */
const AFTER = (seeds: number, old: number) => ({
  changes: 2 * seeds,
  change_records: seeds,
  actions: 2 * seeds + old,
  action_outcomes: seeds,
  webhook_events: seeds,
  record_property_changes: seeds,
  audit_personal_data: seeds,
});

beforeAll(async () => {
  database = await createTestDatabase();
  deps = testDeps(database.db, { clock: () => now });
});
afterAll(() => database.close());

describe('the retention job', () => {
  it('removes only what is past its period, only in its workspace, and records one summary event', async () => {
    const kept = await setUp('Kept', '111');
    const trimmed = await setUp('Trimmed', '222');
    await setRetention(
      deps,
      kept,
      {
        ...ALL_30_DAYS,
        changeRecordsDays: null,
        draftsDays: 365,
        webhookPayloadsDays: null,
        auditPersonalDataDays: null,
      },
      admin,
    );
    await setRetention(deps, trimmed, ALL_30_DAYS, admin);
    const before = await counts(kept);

    while ((await runDueRetention(deps, job('server-a'))) > 0);

    expect(await counts(kept)).toEqual(before);
    expect(await counts(trimmed)).toEqual(AFTER(1, 2));
    const [summary, ...more] = await retentionEvents(trimmed);
    expect(more).toEqual([]);
    expect(summary).toMatchObject({
      actor: { type: 'system', name: 'retention' },
      data: { removed: { changeRecords: 6, drafts: 2, webhookPayloads: 4, auditPersonalData: 2 } },
    });
    // The kept workspace ran too, with nothing old enough for its one period.
    expect(await retentionEvents(kept)).toMatchObject([{ data: { removed: { drafts: 0 } } }]);
    expect(await verifyAudit(deps, trimmed)).toMatchObject({ ok: true });
    expect((await showRetention(deps, trimmed)).nextRunAt).toBe(new Date(now.getTime() + DAY).toISOString());
    // Not due again until then.
    expect(await runDueRetention(deps, job('server-a'))).toBe(0);
  });

  it('a run whose server died part way is finished by another once its lease lapses, with the same totals', async () => {
    const workspaceId = await setUp('Resumed', '333');
    await setRetention(deps, workspaceId, ALL_30_DAYS, admin);
    // Server A removes three batches and dies: its lease stands, its progress is stored.
    const dying = job('server-a', { batchesPerRound: 3 });
    while (true) {
      expect(await runDueRetention(deps, dying)).toBe(1);
      const running = (await showRetention(deps, workspaceId)).running;
      if (running && Object.values(running.removed).some((n) => n > 0)) break;
    }
    expect((await showRetention(deps, workspaceId)).running).not.toBeNull();
    // Server B cannot take it while the lease holds.
    expect(await runDueRetention(deps, job('server-b'))).toBe(0);
    now = new Date(now.getTime() + 61_000);
    while ((await runDueRetention(deps, job('server-b'))) > 0);

    expect(await counts(workspaceId)).toEqual(AFTER(1, 2));
    const events = await retentionEvents(workspaceId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      data: { removed: { changeRecords: 6, drafts: 2, webhookPayloads: 4, auditPersonalData: 2 } },
    });
    expect((await showRetention(deps, workspaceId)).running).toBeNull();
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({ ok: true });
  });
});
