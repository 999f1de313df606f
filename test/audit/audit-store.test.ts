import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAgent,
  setAgentStatus,
  exportAudit,
  verifyAudit,
  createWorkspace,
} from '../../server/src/services/governance/index.ts';
import type { Actor, ServiceDeps } from '../../server/src/services/common/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { testDeps } from '../support/deps.ts';

const admin: Actor = { type: 'admin', via: 'cli', name: 'tester' };
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let deps: ServiceDeps;
let workspaceId: string;
let agentId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  deps = testDeps(database.db);
  workspaceId = (
    await createWorkspace(deps, { name: 'Acme', hubspotPortalId: '111', hubspotToken: 'pat-secret' }, admin)
  ).id;
  agentId = (await createAgent(deps, workspaceId, { name: 'enricher', role: 'enrichment' }, admin)).id;
  await setAgentStatus(deps, workspaceId, agentId, 'paused', admin);
  await setAgentStatus(deps, workspaceId, agentId, 'active', admin);
});
afterAll(() => database.close());

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

describe('the audit log in the database', () => {
  it('verifies an untouched chain and counts its events', async () => {
    expect(await verifyAudit(deps, workspaceId)).toEqual({ ok: true, events: 4 });
  });

  it('refuses UPDATE and DELETE on audit events at the database itself', async () => {
    const refused = { cause: { message: expect.stringMatching(/append-only/) } };
    await expect(database.db.execute(sql`update audit_events set type = 'x' where seq = 1`)).rejects.toMatchObject(
      refused,
    );
    await expect(database.db.execute(sql`delete from audit_events where seq = 1`)).rejects.toMatchObject(refused);
    expect(await verifyAudit(deps, workspaceId)).toEqual({ ok: true, events: 4 });
  });

  it('exports events as NDJSON and CSV with filters', async () => {
    const ndjson = (await collect(exportAudit(deps, workspaceId, { agentId }, 'ndjson')))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(ndjson.map((event) => event.type)).toEqual(['agent.created', 'agent.paused', 'agent.resumed']);
    const csv = (await collect(exportAudit(deps, workspaceId, {}, 'csv'))).trim().split('\n');
    expect(csv[0]).toContain('seq,occurredAt,type');
    expect(csv).toHaveLength(1 + 4);
  });

  it('a CSV export shows an agent’s formula-like batch id as text, and NDJSON keeps it exactly', async () => {
    const { withAuditChain } = await import('../../server/src/services/common/index.ts');
    const { parse } = await import('csv-parse/sync');
    const workspace = (
      await createWorkspace(deps, { name: 'Formulas', hubspotPortalId: '555', hubspotToken: 'pat-5' }, admin)
    ).id;
    const hostile = ['=HYPERLINK("https://evil.example","open")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', 'plain'];
    await withAuditChain(database.db, workspace, deps.clock, async (_tx, audit) => {
      for (const batchId of hostile) audit.append({ type: 'test.event', actor: { type: 'system' }, batchId });
    });
    const rows: Record<string, string>[] = parse(await collect(exportAudit(deps, workspace, {}, 'csv')), {
      columns: true,
    });
    expect(rows.slice(1).map((row) => row.batchId)).toEqual([
      '\'=HYPERLINK("https://evil.example","open")',
      "'+1+1",
      "'-2+3",
      "'@SUM(A1)",
      "'\t=1",
      'plain',
    ]);
    expect(rows[0]!.seq).toBe('1');
    const ndjson = (await collect(exportAudit(deps, workspace, {}, 'ndjson'))).trim().split('\n');
    expect(ndjson.slice(1).map((line) => JSON.parse(line).batchId)).toEqual(hostile);
  });

  it('an event whose JSON is stored in another spelling of the same value still verifies', async () => {
    // jsonb writes spaces and orders keys its own way: the canonical JSON the database writes no
    // longer matches the hash, so verify reads the event again and hashes its parsed value.
    await database.db.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
    await database.db.execute(
      sql`update audit_events set actor = (actor::jsonb)::text::json where workspace_id = ${workspaceId} and seq = 2`,
    );
    await database.db.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
    const respelled = await database.db.execute(
      sql`select actor::text as actor from audit_events where workspace_id = ${workspaceId} and seq = 2`,
    );
    expect((respelled as unknown as { rows: { actor: string }[] }).rows[0]!.actor).toContain('": ');
    expect(await verifyAudit(deps, workspaceId)).toEqual({ ok: true, events: 4 });
  });

  it('when a superuser alters one event with SQL, verify fails at exactly that event', async () => {
    await database.db.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
    await database.db.execute(
      sql`update audit_events set after = '{"status":"revoked"}' where workspace_id = ${workspaceId} and seq = 3`,
    );
    await database.db.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      events: 2,
      firstBadEvent: { seq: 3, problem: 'altered' },
    });
  });

  it('a hash edited into another shape is named at its event, not read shifted', async () => {
    // verify reads each event as one line, `seq prevHash hash canonical`: a space or a longer hash
    // must not move where the next part starts.
    await database.db.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
    await database.db.execute(
      sql`update audit_events set prev_hash = prev_hash || ' ' || hash where workspace_id = ${workspaceId} and seq = 3`,
    );
    await database.db.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
    expect(await verifyAudit(deps, workspaceId)).toMatchObject({
      ok: false,
      events: 2,
      firstBadEvent: { seq: 3, problem: 'relinked' },
    });
  });

  it('text edited into the escaped spelling of its value is named at its event', async () => {
    // The database splices each event's JSON with quotes and backslashes in text escaped: spliced
    // as stored, a batch id edited from a"b to a\"b, or from c\d to c\\d, would read as the
    // JSON that was hashed.
    const { withAuditChain } = await import('../../server/src/services/common/index.ts');
    const workspace = (
      await createWorkspace(deps, { name: 'Quotes', hubspotPortalId: '444', hubspotToken: 'pat-4' }, admin)
    ).id;
    await withAuditChain(database.db, workspace, deps.clock, async (_tx, audit) => {
      audit.append({ type: 'test.event', actor: { type: 'system' }, batchId: 'a"b' });
      audit.append({ type: 'test.event', actor: { type: 'system' }, batchId: 'c\\d' });
    });
    expect(await verifyAudit(deps, workspace)).toEqual({ ok: true, events: 3 });
    for (const seq of [3, 2]) {
      await database.db.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
      await database.db.execute(
        sql`update audit_events set batch_id = replace(replace(batch_id, '\\', '\\\\'), '"', '\\"') where workspace_id = ${workspace} and seq = ${seq}`,
      );
      await database.db.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
      expect(await verifyAudit(deps, workspace)).toMatchObject({
        ok: false,
        events: seq - 1,
        firstBadEvent: { seq, problem: 'altered' },
      });
    }
  });

  it('keeps workspaces apart: another workspace’s chain still verifies', async () => {
    const other = (await createWorkspace(deps, { name: 'Other', hubspotPortalId: '222', hubspotToken: 'pat-2' }, admin))
      .id;
    await createAgent(deps, other, { name: 'enricher', role: 'enrichment' }, admin);
    expect(await verifyAudit(deps, other)).toEqual({ ok: true, events: 2 });
  });
});

describe('the audit chain through a real database', () => {
  it('any JSON an agent sends survives storage with its hash intact (quotes, backslashes, unicode, nesting)', async () => {
    const fc = (await import('fast-check')).default;
    const { withAuditChain } = await import('../../server/src/services/common/index.ts');
    const workspace = (
      await createWorkspace(deps, { name: 'Fuzz', hubspotPortalId: '333', hubspotToken: 'pat-3' }, admin)
    ).id;
    const noNul = (value: unknown) => !JSON.stringify(value).includes('\\u0000');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.dictionary(fc.string(), fc.jsonValue()).filter(noNul), { minLength: 1, maxLength: 5 }),
        async (payloads) => {
          await withAuditChain(
            database.db,
            workspace,
            () => new Date(),
            async (_tx, audit) => {
              for (const payload of payloads)
                audit.append({
                  type: 'test.event',
                  actor: { type: 'system' },
                  evidence: payload as never,
                  after: { value: payload as never },
                });
            },
          );
        },
      ),
      // CI replays one fixed seed so a red build is reproducible; locally each run explores new inputs.
      { numRuns: Number(process.env.FUZZ_RUNS ?? 25), ...(process.env.CI ? { seed: 20261123 } : {}) },
    );
    const verdict = await verifyAudit(deps, workspace);
    expect(verdict, JSON.stringify(verdict)).toMatchObject({ ok: true });
  });
});
