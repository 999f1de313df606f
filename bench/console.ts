/**
 * Issue 19: server time of the web console's heaviest reads, through the real app with a signed-in
 * session, on PGlite and (when reachable) Postgres, with 100,000 change records (a tenth of them held
 * for approval) and 1,000,000 audit events in the workspace, seeded with set-based SQL: the inbox's
 * first page and a later one (keyset), the batches page, one batch's page (its audit trail) and an
 * audit search by person, action kind and time (goal: p95 under 100 ms). Then the time from
 * "approve" to the row leaving the inbox against the fake HubSpot at 100 ms latency: the decision
 * (stored and answered; the HubSpot read and write follow behind the answer) and the inbox read the
 * console does next (goal: under 300 ms); every approved value must have been written by the end.
 * BENCH_CONSOLE_SCALE (default 1) scales both sizes down, e.g. 0.1 on a shared machine.
 *
 * The seeded audit events carry placeholder hashes: the chain is not verifiable, which none of the
 * measured reads checks. Figures measured are in docs/console.md.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { and, count, eq, ne, sql } from 'drizzle-orm';
import { createApp } from '../server/src/app.ts';
import { checkV3Signature } from '../server/src/crm/hubspot/webhook-signature.ts';
import { silentLogger } from '../server/src/logger.ts';
import { hubspotResolver } from '../server/src/runtime.ts';
import { createFakeHubSpotHttpServer } from '../server/src/sandbox/hubspot/http-server.ts';
import { createHubSpotState, seedRecord } from '../server/src/sandbox/hubspot/state.ts';
import { approvals } from '../server/src/store/schema.ts';
import { createSecretBox } from '../server/src/secrets.ts';
import { submitChangeSet } from '../server/src/services/change-sets/index.ts';
import { type Actor, outboundTo, type ServiceDeps, workBehindAnswers } from '../server/src/services/common/index.ts';
import { issueSignInLink } from '../server/src/services/console/index.ts';
import {
  bootstrapWorkspace,
  createAgent,
  createWorkspace,
  publishPolicy,
  requireWorkspace,
  setPersonRole,
} from '../server/src/services/governance/index.ts';
import { findAgent } from '../server/src/store/agent-store.ts';
import { openDatabase } from '../server/src/store/database.ts';
import { createBenchPostgres } from './databases.ts';
import { type BenchTable, databaseArgument, printTables } from './report.ts';

const SCALE = Number(process.env.BENCH_CONSOLE_SCALE ?? 1);
const CHANGES = Math.round(100_000 * SCALE);
const AUDIT_EVENTS = Math.round(1_000_000 * SCALE);
const CHANGES_PER_SET = 100;
const REQUESTS = 100;
const APPROVE_RUNS = 20;
const LATENCY_MS = 100;
const GOAL_READ_MS = 100;
const GOAL_APPROVE_MS = 300;
const ADMIN: Actor = { type: 'admin', via: 'cli', name: 'bench' };
const POLICY = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, '../examples/policy.json'), 'utf8'),
) as unknown;

type Db = ServiceDeps['db'];
/** A number of ours written into the statement, so Postgres knows its type (a parameter's it would not). */
const n = (value: number) => sql.raw(String(Math.trunc(value)));

/** Change sets, changes (every tenth held, with its approval and item) and audit events, each in one statement. */
async function seedBulk(db: Db, workspaceId: string, agentId: string): Promise<void> {
  const sets = Math.ceil(CHANGES / CHANGES_PER_SET);
  await db.execute(sql`
    insert into change_sets (id, workspace_id, agent_id, batch_id, object_type, policy_version, status, created_at)
    select gen_random_uuid(), ${workspaceId}, ${agentId}, 'bench-' || n, 'contacts', 1, 'completed',
      now() - make_interval(mins => (${n(sets)} - n))
    from generate_series(0, ${n(sets - 1)}) as n`);
  await db.execute(sql`
    insert into changes (id, workspace_id, change_set_id, ordinal, record_id, property, before_value, proposed_value, tier, decision, reasons)
    select gen_random_uuid(), ${workspaceId}, s.id, g % ${n(CHANGES_PER_SET)}, (100000 + g)::text, 'jobtitle', 'Engineer', 'CTO',
      case when g % 10 = 0 then 'approval' else 'auto' end,
      case when g % 10 = 0 then 'pending_approval' else 'applied' end,
      case when g % 10 = 0 then array['tier_approval'] else array['tier_auto'] end
    from generate_series(0, ${n(CHANGES - 1)}) as g
    join (select id, (row_number() over (order by created_at) - 1)::int as n from change_sets where workspace_id = ${workspaceId} and batch_id like 'bench-%') s
      on s.n = g / ${n(CHANGES_PER_SET)}`);
  await db.execute(sql`
    insert into change_records (workspace_id, change_set_id, record_id, evidence)
    select ${workspaceId}, c.change_set_id, c.record_id, '{"source":"bench","confidence":0.9,"reason":"bench"}'::json
    from changes c where c.workspace_id = ${workspaceId} and c.decision = 'pending_approval'`);
  // One approval per held change, named by the change's id.
  await db.execute(sql`
    insert into approvals (id, workspace_id, change_set_id, agent_id, batch_id, object_type, record_id, policy_version, tier, status, expires_at, record_owner_id, created_at)
    select c.id, ${workspaceId}, c.change_set_id, s.agent_id, s.batch_id, 'contacts', c.record_id, 1, 'approval', 'pending',
      now() + interval '3 days', '1001', s.created_at
    from changes c join change_sets s on s.id = c.change_set_id
    where c.workspace_id = ${workspaceId} and c.decision = 'pending_approval'`);
  await db.execute(sql`
    insert into approval_items (approval_id, property, change_id, before_value, proposed_value, status, approved_by)
    select c.id, c.property, c.id, c.before_value, c.proposed_value, 'pending', '{}'
    from changes c where c.workspace_id = ${workspaceId} and c.decision = 'pending_approval'`);
  const result = await db.execute(sql`select seq::int as seq from audit_heads where workspace_id = ${workspaceId}`);
  const [head] = (result as unknown as { rows: { seq: number }[] }).rows;
  const from = head!.seq + 1;
  const to = head!.seq + AUDIT_EVENTS;
  // Decisions by five people, the rest the agent's; a tenth of a second apart, the newest now.
  await db.execute(sql`
    insert into audit_events (workspace_id, seq, occurred_at, type, actor, agent_id, batch_id, object_type, record_id, property, before, after, reasons, policy_version, prev_hash, hash)
    select ${workspaceId}, g, now() - make_interval(secs => ((${n(to)} - g) / 10.0)::double precision),
      case when g % 20 = 0 then 'approval.decided' when g % 2 = 0 then 'change.applied' else 'change.decided' end,
      case when g % 20 = 0 then json_build_object('type', 'person', 'crmUserId', (501 + (g / 20) % 5)::text, 'via', 'console')
        else json_build_object('type', 'agent', 'agentId', ${agentId}::text, 'name', 'bench-enricher') end,
      ${agentId}, 'bench-' || ((g / 1000) % ${n(Math.ceil(CHANGES / CHANGES_PER_SET))}), 'contacts', (100000 + g % ${n(CHANGES)})::text, 'jobtitle',
      '{"jobtitle":"Engineer"}'::json, '{"jobtitle":"CTO"}'::json, array['tier_auto'], 1, md5((g - 1)::text), md5(g::text)
    from generate_series(${n(from)}, ${n(to)}) as g`);
  await db.execute(
    sql`update audit_heads set seq = ${n(to)}, hash = md5(${n(to)}::text) where workspace_id = ${workspaceId}`,
  );
  await db.execute(sql`analyze`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

async function measure(kind: 'pglite' | 'postgres') {
  const postgres = kind === 'postgres' ? await createBenchPostgres() : undefined;
  if (kind === 'postgres' && !postgres) return undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-console-'));
  const database = await openDatabase({ databaseUrl: postgres?.url, dataDir, holder: 'console bench' });
  const hubspot = createHubSpotState();
  const fake = createFakeHubSpotHttpServer(hubspot);
  try {
    await database.migrate();
    const secrets = createSecretBox(randomBytes(32));
    const behindAnswers = workBehindAnswers((error) => {
      throw error;
    });
    const deps: ServiceDeps = {
      behindAnswers,
      db: database.db,
      clock: () => new Date(),
      secrets,
      crmFor: hubspotResolver({ baseUrl: await fake.listen(), callsPer10s: 10_000, open: (s) => secrets.open(s) }),
      checkSignedRequest: checkV3Signature,
      outbound: outboundTo([]),
    };
    const created = await createWorkspace(
      deps,
      { name: 'Bench', hubspotPortalId: '1', hubspotToken: hubspot.accessToken },
      ADMIN,
    );
    await publishPolicy(deps, created.id, POLICY, ADMIN);
    await bootstrapWorkspace(deps, created.id, ADMIN);
    await setPersonRole(deps, created.id, { crmUserId: '501', role: 'approver' }, ADMIN);
    const agentId = (await createAgent(deps, created.id, { name: 'bench-enricher', role: 'enrichment' }, ADMIN)).id;
    console.error(`console ${kind}: seeding ${CHANGES} changes and ${AUDIT_EVENTS} audit events`);
    const seeding = await timed(() => seedBulk(database.db, created.id, agentId));

    // Held values on records the fake HubSpot has, newest of all, for the approve-to-gone timing.
    const workspace = await requireWorkspace(deps, created.id);
    const agent = (await findAgent(deps.db, workspace.id, agentId))!;
    const recordIds = Array.from({ length: APPROVE_RUNS }, (_, i) =>
      seedRecord(hubspot, 'contacts', { properties: { email: `c${i}@example.com`, hubspot_owner_id: '1001' } }),
    );
    await submitChangeSet(deps, {
      workspace,
      agent,
      request: {
        batchId: 'bench-held',
        objectType: 'contacts',
        changes: recordIds.map((recordId, i) => ({
          recordId,
          properties: { phone: `+33 1 00 00 ${String(i).padStart(4, '0')}` },
          evidence: { source: 'bench', reason: 'Benchmark enrichment', confidence: 0.9 },
        })),
      },
    });

    const app = createApp({
      deps,
      database,
      logger: silentLogger,
      maxBodyBytes: 2 * 1024 * 1024,
      publicUrl: 'http://127.0.0.1',
    });
    const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const link = await issueSignInLink(deps, { workspaceId: created.id, crmUserId: '501' });
      // The sign-in page's button: its form posted from this server's own page.
      const signIn = await fetch(`${base}/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base, 'sec-fetch-site': 'same-origin' },
        body: new URLSearchParams({ token: link.token }),
      });
      const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
      const get = async (pathAndQuery: string) => {
        const response = await fetch(`${base}${pathAndQuery}`, { headers: { cookie } });
        const body = await response.text();
        if (response.status !== 200)
          throw new Error(`${pathAndQuery} answered ${response.status}: ${body.slice(0, 300)}`);
        return JSON.parse(body) as Record<string, unknown>;
      };
      const p95Of = async (pathAndQuery: string) => {
        for (let i = 0; i < 10; i++) await get(pathAndQuery);
        const runs: number[] = [];
        for (let i = 0; i < REQUESTS; i++) runs.push((await timed(() => get(pathAndQuery))).ms);
        const sorted = runs.sort((a, b) => a - b);
        return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
      };
      const firstInbox = await get('/console/api/inbox?limit=50');
      const middleSeq = (await get('/console/api/audit?limit=1')).next as number;
      const reads = {
        'inbox, first page': await p95Of('/console/api/inbox?limit=50'),
        'inbox, next page (keyset)': await p95Of(`/console/api/inbox?limit=50&cursor=${firstInbox.next as string}`),
        'inbox, by property and age': await p95Of('/console/api/inbox?limit=50&property=jobtitle&olderThanMinutes=10'),
        batches: await p95Of('/console/api/batches?limit=50'),
        'a batch page (its audit trail)': await p95Of(
          `/console/api/audit?batch=bench-${Math.floor(CHANGES / CHANGES_PER_SET / 2)}&limit=50`,
        ),
        'audit: person, kind, last day': await p95Of(
          `/console/api/audit?person=503&type=approval.decided&from=${new Date(Date.now() - 86_400_000).toISOString()}&limit=50`,
        ),
        'audit: a page deep in the log (keyset)': await p95Of(
          `/console/api/audit?limit=50&before=${Math.floor(middleSeq / 2)}`,
        ),
      };

      hubspot.faults.latencyMs = LATENCY_MS;
      const held = (await get('/console/api/inbox?batch=bench-held&limit=50')).items as { approval: { id: string } }[];
      const approve: number[] = [];
      for (const card of held) {
        const { ms } = await timed(async () => {
          const decided = await fetch(`${base}/console/api/approvals/${card.approval.id}/decisions`, {
            method: 'POST',
            headers: { cookie, 'x-console-request': '1', origin: base, 'content-type': 'application/json' },
            body: JSON.stringify({ kind: 'approve' }),
          });
          if (decided.status !== 200) throw new Error(`approve answered ${decided.status}: ${await decided.text()}`);
          const after = (await get('/console/api/inbox?batch=bench-held&limit=50')).items as {
            approval: { id: string };
          }[];
          if (after.some((left) => left.approval.id === card.approval.id))
            throw new Error('the row did not leave the inbox');
        });
        approve.push(ms);
        // A person's next approval comes seconds later, after this one's write: not timed with it.
        await behindAnswers.idle();
      }
      // The writes follow behind the answers; each must have landed for the figure to count.
      await behindAnswers.idle();
      const [unwritten] = await deps.db
        .select({ n: count() })
        .from(approvals)
        .where(
          and(
            eq(approvals.workspaceId, created.id),
            eq(approvals.batchId, 'bench-held'),
            ne(approvals.status, 'applied'),
          ),
        );
      if (unwritten!.n !== 0) throw new Error(`${unwritten!.n} approved values were not written`);
      approve.sort((a, b) => a - b);
      return {
        seedingSeconds: seeding.ms / 1000,
        reads,
        approve: { runs: approve.length, p50: percentile(approve, 50), p95: percentile(approve, 95) },
      };
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  } finally {
    await fake.close();
    await database.close();
    await postgres?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchConsole(only?: string): Promise<BenchTable[]> {
  const tables: BenchTable[] = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
    const result = await measure(kind);
    if (!result) {
      console.log(`console ${kind}: skipped (no Postgres reachable; set BENCH_DATABASE_URL)`);
      continue;
    }
    tables.push({
      title: `Console reads on ${kind}, ${CHANGES} change records and ${AUDIT_EVENTS} audit events, ${REQUESTS} requests each; approve to gone from the inbox (decision + inbox read, the write behind the answer, HubSpot at ${LATENCY_MS} ms latency, ${result.approve.runs} runs):`,
      rows: [
        ...Object.entries(result.reads).map(([read, { p50, p95 }]) => ({
          read,
          'p50 ms': p50.toFixed(1),
          'p95 ms': p95.toFixed(1),
          goal: `p95 < ${GOAL_READ_MS} ms: ${p95 < GOAL_READ_MS}`,
        })),
        {
          read: 'approve to gone',
          'p50 ms': result.approve.p50.toFixed(0),
          'p95 ms': result.approve.p95.toFixed(0),
          goal: `p95 < ${GOAL_APPROVE_MS} ms: ${result.approve.p95 < GOAL_APPROVE_MS}`,
        },
        { read: 'seeding s', 'p50 ms': result.seedingSeconds.toFixed(1), 'p95 ms': '-', goal: '-' },
      ],
    });
  }
  return tables;
}

if (import.meta.main) printTables(await benchConsole(databaseArgument()));
