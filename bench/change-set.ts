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
