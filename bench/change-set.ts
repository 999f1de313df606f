/**
 * Issue 3: a change set of 1,000 contacts × 10 properties sent to the real server (its own
 * process, as `npm start` runs it) by an agent over HTTP, against a fake HubSpot over real HTTP,
 * on PGlite and (when reachable) Postgres. Prints HubSpot calls against the floor, decisions
 * stored per second, wall time against the floor a rate limit sets, and the server's peak memory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createFakeHubSpotHttpServer } from '../server/src/sandbox/hubspot/http-server.ts';
import { createHubSpotState, seedRecord, type HubSpotState } from '../server/src/sandbox/hubspot/state.ts';
import { createBenchPostgres } from './databases.ts';
import { benchWorkspace, cli, startServer } from './server-process.ts';
import { type BenchTable, databaseArgument, printTables } from './report.ts';

const RECORDS = 1_000;
const PROPERTIES = 10;
const LATENCY_MS = 100;
const CALLS_PER_10S = 100;
const READ = 'POST /crm/v3/objects/{type}/batch/read';
const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';
const POLICY = path.resolve(import.meta.dirname, '../examples/policy.json');

// Six auto, two approval and two unnamed (denied) properties: every kind of decision is stored.
export function changesFor(ids: string[]) {
  return ids.map((recordId, i) => ({
    recordId,
    properties: {
      jobtitle: `Engineer ${i}`,
      company: `Company ${i}`,
      industry: 'Software',
      city: 'Paris',
      country: 'France',
      numemployees: '25-50',
      phone: `+33 1 00 00 ${String(i).padStart(4, '0')}`,
      mobilephone: `+33 6 00 00 ${String(i).padStart(4, '0')}`,
      firstname: `First${i}`,
      lastname: `Last${i}`,
    },
    evidence: {
      source: 'bench-provider',
      url: `https://example.com/p/${i}`,
      confidence: 0.9,
      reason: 'Benchmark enrichment',
      runId: 'bench',
    },
  }));
}

async function measure(kind: 'pglite' | 'postgres') {
  const postgres = kind === 'postgres' ? await createBenchPostgres() : undefined;
  if (kind === 'postgres' && !postgres) return undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-'));
  const hubspot: HubSpotState = createHubSpotState();
  const fake = createFakeHubSpotHttpServer(hubspot);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    HUBSPOT_API_BASE_URL: await fake.listen(),
    HUBSPOT_CALLS_PER_10S: String(CALLS_PER_10S),
    // The approval job's HubSpot mirror of the 2,000 held writes has its own benchmark (approvals.ts).
    APPROVAL_JOBS: 'off',
    ...(postgres ? { DATABASE_URL: postgres.url, SECRETS_KEY: randomBytes(32).toString('base64') } : {}),
  };
  const { workspaceId, agentToken } = await benchWorkspace(env, hubspot.accessToken, 'bench-enricher');
  await cli(env, 'policy', 'apply', '--workspace', workspaceId, POLICY);
  await cli(env, 'bootstrap', '--workspace', workspaceId);
  const server = await startServer(env);

  const seed = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      seedRecord(hubspot, 'contacts', { properties: { email: `b${i}@example.com` } }),
    );
  const submit = async (ids: string[], batchId: string) => {
    const started = performance.now();
    const response = await fetch(`${server.url}/v1/changesets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agentToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ batchId, objectType: 'contacts', changes: changesFor(ids) }),
    });
    const body = (await response.json()) as { summary: Record<string, number> };
    if (response.status !== 201) throw new Error(`submission failed: ${response.status} ${JSON.stringify(body)}`);
    const phases: Record<string, number> = Object.fromEntries(
      (response.headers.get('server-timing') ?? '').split(', ').map((entry) => {
        const [name, duration] = entry.split(';dur=');
        return [name, Number(duration)];
      }),
    );
    return { seconds: (performance.now() - started) / 1000, summary: body.summary, phases };
  };

  try {
    await submit(seed(50), 'warm-up'); // JIT, property cache, connection pool
    hubspot.calls.clear();
    const fast = await submit(seed(RECORDS), 'latency-0');
    const calls = { reads: hubspot.calls.count({ route: READ }), updates: hubspot.calls.count({ route: UPDATE }) };
    const otherCalls = hubspot.calls.count() - calls.reads - calls.updates;

    hubspot.faults.latencyMs = LATENCY_MS;
    hubspot.faults.setRateLimit({ maxCalls: CALLS_PER_10S, intervalMs: 10_000 });
    hubspot.calls.clear();
    const limited = await submit(seed(RECORDS), 'latency-100');
    const limitedCalls = hubspot.calls.count();
    // The floor the limit sets: its sustained rate, 10 calls a second (here also the time the calls take one after
    // another). Reads run a few at once and the rolling window admits 100 calls at once, so a run can come in under it.
    const floorSeconds = (limitedCalls / CALLS_PER_10S) * 10;
    return {
      fast,
      calls,
      otherCalls,
      limited,
      floorSeconds,
      peakMemoryMb: server.peakMemoryMb(),
      summary: fast.summary,
    };
  } finally {
    await server.stop();
    await fake.close();
    await postgres?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchChangeSet(only?: string): Promise<BenchTable[]> {
  const rows = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
    const result = await measure(kind);
    if (!result) {
      console.log(`${kind}: skipped (no Postgres reachable; set BENCH_DATABASE_URL)`);
      continue;
    }
    const decisions = RECORDS * PROPERTIES;
    rows.push({
      database: kind,
      'HubSpot calls read+update': `${result.calls.reads}+${result.calls.updates} (floor ${RECORDS / 100}+${RECORDS / 100}, other ${result.otherCalls})`,
      'decisions stored/s': Math.round(decisions / ((result.fast.phases.decide ?? Number.NaN) / 1000)),
      'end to end s': result.fast.seconds.toFixed(2),
      [`s at ${LATENCY_MS} ms, ${CALLS_PER_10S}/10 s`]: result.limited.seconds.toFixed(2),
      'floor s': result.floorSeconds.toFixed(2),
      'ratio to floor': (result.limited.seconds / result.floorSeconds).toFixed(3),
      'server peak MB': result.peakMemoryMb,
      'phases ms at latency 0': Object.entries(result.fast.phases)
        .map(([name, ms]) => `${name} ${Math.round(ms)}`)
        .join(', '),
    });
    console.log(`${kind}: decisions ${JSON.stringify(result.summary)}`);
  }
  return [
    {
      title: `Change set of ${RECORDS} contacts × ${PROPERTIES} properties (${RECORDS * PROPERTIES} field writes), agent API → server process → fake HubSpot over HTTP:`,
      rows,
    },
  ];
}

if (import.meta.main) printTables(await benchChangeSet(databaseArgument()));

/*
 * Issue 21's variants: the same change set made of creation entries (each contact created through
 * the duplicate check; a change set creates or updates, not both), and drafts with content rules
 * in force. The size
 * is BENCH_VARIANT_RECORDS (1,000 unless set; a small size only checks that they work).
 */
const VARIANT_RECORDS = Number(process.env['BENCH_VARIANT_RECORDS'] ?? RECORDS);
const SEARCH = 'POST /crm/v3/objects/{type}/search';
const DRAFT_CONCURRENCY = 8;

/** The example policy, with enrichment creating contacts, outreach emailing at any hour, and `extra` on top. */
function variantPolicy(extra: Record<string, unknown>): string {
  const policy = JSON.parse(fs.readFileSync(POLICY, 'utf8')) as Record<string, any>;
  policy['objects'].contacts.create = { enrichment: 'auto' };
  for (const property of ['email', 'firstname', 'lastname', 'phone', 'mobilephone'])
    policy['objects'].contacts.properties[property] = { enrichment: 'auto' };
  policy['actions'].send_email = { outreach: 'auto' };
  policy['windows'] = [];
  policy['caps'] = { writesPerAgentPerDay: 1_000_000, writesPerRecordPerDay: 20 };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-policy-')), 'policy.json');
  fs.writeFileSync(file, JSON.stringify({ ...policy, ...extra }));
  return file;
}

const CONTENT_RULES = [
  {
    name: 'No pricing promises',
    kind: 'banned',
    phrases: ['guaranteed savings', 'free forever'],
    patterns: ['\\$[0-9]+ ?off'],
    raiseTo: 'approval',
  },
  { name: 'Unsubscribe line', kind: 'required', phrases: ['unsubscribe'], raiseTo: 'approval' },
  { name: 'Merge fields', kind: 'personalisation', allowedFields: ['firstname', 'company'], raiseTo: 'deny' },
];

async function variantServer(kind: 'pglite' | 'postgres', policyFile: string) {
  const postgres = kind === 'postgres' ? await createBenchPostgres() : undefined;
  if (kind === 'postgres' && !postgres) return undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-'));
  const hubspot: HubSpotState = createHubSpotState();
  const fake = createFakeHubSpotHttpServer(hubspot);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    HUBSPOT_API_BASE_URL: await fake.listen(),
    APPROVAL_JOBS: 'off',
    ...(postgres ? { DATABASE_URL: postgres.url, SECRETS_KEY: randomBytes(32).toString('base64') } : {}),
  };
  const { workspaceId, agentToken } = await benchWorkspace(env, hubspot.accessToken, 'bench-enricher');
  const outreach = await cli(
    env,
    'agents',
    'create',
    '--workspace',
    workspaceId,
    '--name',
    'bench-outreach',
    '--role',
    'outreach',
  );
  await cli(env, 'policy', 'apply', '--workspace', workspaceId, policyFile);
  await cli(env, 'bootstrap', '--workspace', workspaceId);
  let server = await startServer(env);
  const post = async (token: string, route: string, body: unknown, status: number) => {
    const response = await fetch(`${server.url}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (response.status !== status) throw new Error(`${route} failed: ${response.status} ${JSON.stringify(answer)}`);
    return answer as Record<string, any>;
  };
  return {
    env,
    workspaceId,
    hubspot,
    enricher: agentToken,
    outreach: String(outreach['token']),
    post,
    /** PGlite's data folder is the server's alone while it runs: the CLI applies a policy between two runs of it. */
    async applyPolicy(file: string) {
      await server.stop();
      await cli(env, 'policy', 'apply', '--workspace', workspaceId, file);
      server = await startServer(env);
    },
    async stop() {
      await server.stop();
      await fake.close();
      await postgres?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A change set of VARIANT_RECORDS updates, then one of as many creations. */
async function measureCreates(kind: 'pglite' | 'postgres') {
  const bench = await variantServer(kind, variantPolicy({}));
  if (!bench) return undefined;
  const { hubspot } = bench;
  const seed = (n: number, tag: string) =>
    Array.from({ length: n }, (_, i) =>
      seedRecord(hubspot, 'contacts', { properties: { email: `${tag}${i}@example.com` } }),
    );
  const submit = async (changes: unknown[], batchId: string) => {
    const started = performance.now();
    const body = await bench.post(bench.enricher, '/v1/changesets', { batchId, objectType: 'contacts', changes }, 201);
    return { seconds: (performance.now() - started) / 1000, summary: body['summary'] as Record<string, number> };
  };
  const creations = (n: number, tag: string) =>
    changesFor(Array.from({ length: n }, (_, i) => `${i}`)).map(({ properties, evidence }, i) => ({
      operation: 'create',
      properties: { ...properties, email: `${tag}${i}@new.example.com`, lastname: `${tag}Last${i}` },
      evidence,
    }));
  try {
    await submit(changesFor(seed(50, 'w')), 'warm-up');
    await submit(creations(50, 'w'), 'warm-up-creates');
    const updates = await submit(changesFor(seed(VARIANT_RECORDS, 'u')), 'updates');
    hubspot.calls.clear();
    const creates = await submit(creations(VARIANT_RECORDS, 'c'), 'creates');
    const searches = hubspot.calls.count({ route: SEARCH });
    return { updates, creates, searches };
  } finally {
    await bench.stop();
  }
}

/** VARIANT_RECORDS emails drafted by an outreach agent, without content rules and then with them in force. */
async function measureDrafts(kind: 'pglite' | 'postgres') {
  const bench = await variantServer(kind, variantPolicy({}));
  if (!bench) return undefined;
  const { hubspot } = bench;
  const draftAll = async (tag: string) => {
    const contacts = Array.from({ length: VARIANT_RECORDS }, (_, i) => {
      const email = `${tag}${i}@d${i % 97}.example.com`;
      return { email, id: seedRecord(hubspot, 'contacts', { properties: { email } }) };
    });
    const started = performance.now();
    const statuses = new Map<string, number>();
    for (let at = 0; at < contacts.length; at += DRAFT_CONCURRENCY) {
      await Promise.all(
        contacts.slice(at, at + DRAFT_CONCURRENCY).map(async ({ email, id }, i) => {
          const draft = await bench.post(
            bench.outreach,
            '/v1/actions',
            {
              kind: 'send_email',
              objectType: 'contacts',
              recordId: id,
              to: email,
              subject: 'Your team’s pipeline',
              body: `Hi {{firstname}},\nsaw {{company}} is hiring. ${(at + i) % 10 === 0 ? 'Guaranteed savings! ' : ''}Worth a call?\nReply STOP to unsubscribe.`,
              evidence: { source: 'bench-sequence', reason: 'Benchmark draft' },
            },
            201,
          );
          statuses.set(draft['status'], (statuses.get(draft['status']) ?? 0) + 1);
        }),
      );
    }
    return { seconds: (performance.now() - started) / 1000, statuses: Object.fromEntries(statuses) };
  };
  try {
    await draftAll('warm');
    const plain = await draftAll('plain');
    await bench.applyPolicy(variantPolicy({ content: CONTENT_RULES }));
    await draftAll('warm-ruled');
    const ruled = await draftAll('ruled');
    return { plain, ruled };
  } finally {
    await bench.stop();
  }
}

export async function benchChangeSetCreates(only?: string): Promise<BenchTable[]> {
  const rows = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
    const result = await measureCreates(kind);
    if (!result) continue;
    rows.push({
      database: kind,
      'updates s': result.updates.seconds.toFixed(2),
      'creations s': result.creates.seconds.toFixed(2),
      'ratio to updates': (result.creates.seconds / result.updates.seconds).toFixed(3),
      'duplicate-check searches': result.searches,
      'searches per 100 entries': ((result.searches / VARIANT_RECORDS) * 100).toFixed(2),
    });
    console.log(`${kind}: creations ${JSON.stringify(result.creates.summary)}`);
  }
  return [
    {
      title: `Change set of ${VARIANT_RECORDS} contacts × ${PROPERTIES} properties, updates against creations (duplicate check, then create), latency 0:`,
      rows,
    },
  ];
}

export async function benchChangeSetDrafts(only?: string): Promise<BenchTable[]> {
  const rows = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
    const result = await measureDrafts(kind);
    if (!result) continue;
    rows.push({
      database: kind,
      'drafts/s without content rules': Math.round(VARIANT_RECORDS / result.plain.seconds),
      'drafts/s with content rules': Math.round(VARIANT_RECORDS / result.ruled.seconds),
      'ratio (with/without time)': (result.ruled.seconds / result.plain.seconds).toFixed(3),
    });
    console.log(
      `${kind}: without ${JSON.stringify(result.plain.statuses)}, with ${JSON.stringify(result.ruled.statuses)}`,
    );
  }
  return [
    {
      title: `${VARIANT_RECORDS} email drafts, ${DRAFT_CONCURRENCY} at a time, without and with three content rules (banned, required, personalisation):`,
      rows,
    },
  ];
}
