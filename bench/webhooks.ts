/**
 * Issue 6: the webhook intake under HubSpot's load shape. Signed batches of 100 events from 10
 * concurrent connections, sent by autocannon in a second process to the server started as
 * `npm start` starts it (worker off, so intake is measured alone), beside two yardsticks in the
 * same run: the floor of what intake must do (reference-intake.ts: check the signature, one
 * INSERT into the same kind of database) and a bare Express endpoint; then the stored backlog is
 * processed by the same service the worker runs, in this process, and timed. The three take the
 * load in turns, in slices of a few seconds (issue 18): on a shared machine the load of others
 * moves within a minute, and a ratio of two figures taken ten seconds apart moved with it.
 *
 * Goal (issue 18): at least 0.7 × the reference's events per second, p99 under 50 ms. Met since intake
 * stores each delivery whole (one row) and the worker splits it into events: on an idle 2-core machine,
 * Postgres, median of 3 runs, ratio 0.73 (0.72-0.77), intake 64,759 events/s, p99 38.5 ms (34.1-44.8);
 * PGlite, one run, 0.83 and p99 67.9 ms (the reference's own: 51.9 ms).
 *
 * Before that change, on a shared 2-core machine, load average 12-21, three runs each, median (range):
 *
 *   PGlite    before 0.42 (0.32-0.44)   after 0.52 (0.31-0.57; 6 runs), intake p99 400-460 ms
 *   Postgres  before 0.53 (0.53-0.56)   after 0.54 (0.52-0.54), intake 31,900 events/s, p99 103 ms
 *                                       (reference 59,100 events/s, p99 65 ms)
 *
 * "after" is the plain insert (ON CONFLICT only on a duplicate key) without the index join. On
 * PGlite the database runs in the server's thread and 100 indexed rows cost about twice the
 * reference's one row of CPU (3.7 against 2.0 ms), which caps the ratio near 0.6. On Postgres the
 * server's thread is the limit, and validation was most of our own work in it (zod per event and the
 * safe-text walk: 0.35 of the 0.55 ms of CPU ingestHubSpotWebhook took per delivery): without both
 * (an experiment, not kept) the ratio was 0.61-0.69. The reference's own p99 is over 50 ms at this load.
 *
 * Since, HubSpot's usual events are checked by hand in one pass (isCommonHubSpotEvent): about 0.02-0.07
 * ms of CPU per delivery where the schema and the walk took about 0.30. At load average 8-18 the ratio
 * did not resolve it: five interleaved runs each, median (range), before and after:
 *
 *   PGlite    0.57 (0.52-0.83)   0.51 (0.51-0.63)
 *   Postgres  0.54 (0.44-0.66)   0.65 (0.47-0.83)
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../server/src/config.ts';
import { openRuntime } from '../server/src/runtime.ts';
import { processWebhookEvents } from '../server/src/services/webhooks/index.ts';
import { countPendingEvents } from '../server/src/store/webhook-event-store.ts';
import { createFakeHubSpotHttpServer } from '../server/src/sandbox/hubspot/http-server.ts';
import { createHubSpotState } from '../server/src/sandbox/hubspot/state.ts';
import { createBenchPostgres } from './databases.ts';
import { cli, startServer } from './server-process.ts';
import { type BenchTable, databaseArgument, printTables } from './report.ts';

const run = promisify(execFile);
/** Seconds of load per endpoint: SLICES turns of SLICE_SECONDS each. */
const SLICES = 5;
const SLICE_SECONDS = 2;
const SECONDS = SLICES * SLICE_SECONDS;
const CONNECTIONS = 10;
const SECRET = 'bench-client-secret';
const PORTAL_ID = 1;

/** What webhook-sender.ts prints for one slice of load. */
interface SenderSlice {
  acknowledged: number;
  seconds: number;
  eventsPerRequest: number;
  /** Milliseconds, one per acknowledged request. */
  latencies: number[];
  non2xx: number;
  errors: number;
  lastEventId: number;
}

async function send(url: string, seconds: number, firstEventId: number): Promise<SenderSlice> {
  const input = { url, secret: SECRET, portalId: PORTAL_ID, seconds, connections: CONNECTIONS, firstEventId };
  const { stdout } = await run(
    process.execPath,
    [path.join(import.meta.dirname, 'webhook-sender.ts'), JSON.stringify(input)],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as SenderSlice;
}

interface SenderResult {
  eventsPerSecond: number;
  p50: number;
  p99: number;
  failed: number;
}

/** One endpoint's slices as one measurement: events over the seconds of load, percentiles over every request. */
function combine(slices: readonly SenderSlice[]): SenderResult {
  const latencies = slices.flatMap((slice) => slice.latencies).sort((a, b) => a - b);
  const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  const sum = (of: (slice: SenderSlice) => number) => slices.reduce((total, slice) => total + of(slice), 0);
  return {
    eventsPerSecond: sum((slice) => slice.acknowledged * slice.eventsPerRequest) / sum((slice) => slice.seconds),
    p50: percentile(0.5),
    p99: percentile(0.99),
    failed: sum((slice) => slice.non2xx + slice.errors),
  };
}

/** Starts one of the yardstick endpoints in its own process, as the server runs in its own. */
async function endpoint(script: string, ...args: string[]): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise<string>((resolve) =>
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())),
  );
  return { url: `${base}/webhooks/hubspot`, stop: () => child.kill('SIGTERM') };
}

async function measure(kind: 'pglite' | 'postgres') {
  const postgres = kind === 'postgres' ? await createBenchPostgres() : undefined;
  if (kind === 'postgres' && !postgres) return undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-webhooks-'));
  const hubspot = createHubSpotState();
  const fake = createFakeHubSpotHttpServer(hubspot);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    HUBSPOT_API_BASE_URL: await fake.listen(),
    WEBHOOK_WORKER: 'off',
    ...(postgres ? { DATABASE_URL: postgres.url, SECRETS_KEY: randomBytes(32).toString('base64') } : {}),
  };
  try {
    console.error(`webhooks ${kind}: setting up`);
    await cli(
      env,
      'workspace',
      'add',
      '--name',
      'Bench',
      '--hubspot-portal-id',
      String(PORTAL_ID),
      '--hubspot-token',
      hubspot.accessToken,
      '--hubspot-client-secret',
      SECRET,
      '--no-verify',
    );
    const server = await startServer(env);
    console.error(`webhooks ${kind}: server at ${server.url}`);
    console.error('webhooks: starting the reference and the bare endpoint');
    // PGlite is one process's database, so the reference keeps its own beside the server's.
    const referenceDatabase = postgres ? { databaseUrl: postgres.url } : { dataDir: path.join(dataDir, 'reference') };
    const reference = await endpoint('reference-intake.ts', JSON.stringify({ ...referenceDatabase, secret: SECRET }));
    const bare = await endpoint('bare-endpoint.ts');
    const slices: Record<'intake' | 'floor' | 'baseline', SenderSlice[]> = { intake: [], floor: [], baseline: [] };
    try {
      console.error('webhooks: warming up');
      let nextEventId = (await send(`${server.url}/webhooks/hubspot`, 2, 1)).lastEventId;
      await send(reference.url, 2, 1);
      await send(bare.url, 2, 1);
      console.error(`webhooks: measuring, ${SLICES} turns of ${SLICE_SECONDS} s each`);
      for (let turn = 0; turn < SLICES; turn += 1) {
        const intake = await send(`${server.url}/webhooks/hubspot`, SLICE_SECONDS, nextEventId);
        nextEventId = intake.lastEventId;
        slices.intake.push(intake);
        slices.floor.push(await send(reference.url, SLICE_SECONDS, 1));
        slices.baseline.push(await send(bare.url, SLICE_SECONDS, 1));
      }
    } finally {
      reference.stop();
      bare.stop();
      await server.stop();
    }
    // The server is stopped, so this process may open its database (PGlite is one process's).
    const runtime = await openRuntime(loadConfig(env), 'the webhook benchmark');
    try {
      const backlog = await countPendingEvents(runtime.deps.db);
      const started = performance.now();
      while ((await processWebhookEvents(runtime.deps, { batchSize: 1_000 })) > 0);
      const seconds = (performance.now() - started) / 1000;
      return {
        intake: combine(slices.intake),
        floor: combine(slices.floor),
        baseline: combine(slices.baseline),
        backlog,
        processSeconds: seconds,
      };
    } finally {
      await runtime.close();
    }
  } finally {
    await fake.close();
    await postgres?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchWebhooks(only?: string): Promise<BenchTable[]> {
  const rows = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
    const result = await measure(kind);
    if (!result) {
      console.log(`webhooks ${kind}: skipped (no Postgres reachable; set BENCH_DATABASE_URL)`);
      continue;
    }
    const { intake, floor, baseline } = result;
    rows.push({
      database: kind,
      'events acked/s': Math.round(intake.eventsPerSecond),
      'p99 ms': intake.p99,
      'p50 ms': intake.p50,
      'reference events/s': Math.round(floor.eventsPerSecond),
      'reference p99 ms': floor.p99,
      'ratio to reference': (intake.eventsPerSecond / floor.eventsPerSecond).toFixed(2),
      'bare Express events/s': Math.round(baseline.eventsPerSecond),
      'bare p99 ms': baseline.p99,
      'ratio to bare': (intake.eventsPerSecond / baseline.eventsPerSecond).toFixed(2),
      'non-2xx': intake.failed + floor.failed,
      'backlog events': result.backlog,
      'backlog processed s': result.processSeconds.toFixed(2),
      'processed events/s': Math.round(result.backlog / result.processSeconds),
    });
  }
  return [
    {
      title: `HubSpot webhook intake: signed batches of 100 events, ${CONNECTIONS} concurrent senders (autocannon, second process), ${SECONDS} s each in turns of ${SLICE_SECONDS} s; then the stored backlog processed:`,
      rows,
    },
  ];
}

if (import.meta.main) printTables(await benchWebhooks(databaseArgument()));
