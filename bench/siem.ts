/**
 * Issue 22: audit events streamed per second to a local OTLP receiver from a backlog. The backlog
 * is seeded into the workspace's chain in this process, then the server starts as `npm start`
 * does, an admin adds the OTLP destination over the API, and the clock runs until the receiver
 * (a second process that parses every request) has counted every event. The backlog is the
 * issue's 1,000,000 events on Postgres and 200,000 on PGlite (whose seeding alone would take minutes
 * at a million); BENCH_SIEM_EVENTS sets both.
 *
 * Goal (issue 22): at least 20,000 events a second on Postgres. Measured with BENCH_SIEM_EVENTS=300000,
 * three runs each in turns with the delivery before (keyset reads, events parsed into objects, only
 * the read done ahead), on the shared 2-core machine at load averages of 8-18: median 10,000/s on
 * Postgres (3,300 before), server CPU 22.9 ms per 1,000 events (44.2 before), peak 298 MB. PGlite,
 * one run at load averages of 17-18: 3,660/s, 57.6 ms CPU per 1,000 (the database's included), 360 MB.
 * On an idle machine (load average under 3), Postgres, one run: 1,000,000 events at 38,430/s, 15.9 ms
 * CPU per 1,000, peak 304 MB (the delivery before made 11,600/s there). Goal met.
 *
 * `--mode=load` measures the second goal: the agent API's change-set throughput falls by no
 * more than 5% while streaming runs. An agent sends change sets of bench/change-set.ts's shape
 * (BENCH_SIEM_LOAD_RECORDS contacts × 10 properties, BENCH_SIEM_LOAD_CHANGE_SETS of them) to the
 * server process against a fake HubSpot over HTTP, once with no destination, then again while
 * another workspace's backlog (BENCH_SIEM_EVENTS) streams to the OTLP receiver, then once more after
 * the destination is removed; the drop is against the mean of the two runs alone. The run says
 * whether streaming was still going when the last change set was answered (else the backlog was too
 * short), and the server's CPU per 1,000 decisions in each.
 * Measured with the defaults (10 change sets of 1,000 contacts), BENCH_SIEM_EVENTS=120000 on Postgres
 * and 80000 on PGlite, six runs each, alternating with the rule before (one full batch a second while
 * requests were in flight), on the shared 2-core machine at load averages of 8-27: median drop
 * −2.5% on Postgres (−12.9% to 4.9%; before: 28.8%, 13.8% to 43.4%), −0.7% on PGlite (−17.6% to
 * 8.5%; before: 33.8%, 17.0% to 45.1%); server CPU per decision +4.2% on Postgres (2.4 to 10.6, three
 * runs; before +41.7%), −6.1% on PGlite (−15.8 to 6.4; before +53.8%). One run swings by ±10%
 * on that machine (no streaming at all gave 9.3% and 1.0%): compare medians. While agents work,
 * streaming moves slowly: in one Postgres run of 30 change sets (load average 7), 1,100 events in
 * the 19 s of change sets, about 60 a second, while the agent wrote 1,600 a second.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFakeHubSpotHttpServer } from '../server/src/sandbox/hubspot/http-server.ts';
import { createHubSpotState, seedRecord } from '../server/src/sandbox/hubspot/state.ts';
import { seedAuditBacklog } from './audit-backlog.ts';
import { changesFor } from './change-set.ts';
import { createBenchPostgres } from './databases.ts';
import { type BenchTable, databaseArgument, printTables } from './report.ts';
import { benchWorkspace, cli, startServer } from './server-process.ts';

const BACKLOG = { postgres: 1_000_000, pglite: 200_000 };
const backlogOf = (kind: 'pglite' | 'postgres') => Number(process.env.BENCH_SIEM_EVENTS ?? BACKLOG[kind]);
const GOAL_PER_SECOND = 20_000;
const LOAD = {
  changeSets: Number(process.env.BENCH_SIEM_LOAD_CHANGE_SETS ?? 10),
  records: Number(process.env.BENCH_SIEM_LOAD_RECORDS ?? 1_000),
};
const GOAL_LOAD_DROP = 0.05;
const POLICY = path.resolve(import.meta.dirname, '../examples/policy.json');

async function startReceiver(): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'otlp-receiver.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) =>
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())),
  );
  return { url, stop: () => child.kill('SIGTERM') };
}

async function measure(kind: 'pglite' | 'postgres') {
  const postgres = kind === 'postgres' ? await createBenchPostgres() : undefined;
  if (kind === 'postgres' && !postgres) return undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-siem-'));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    DEMO: 'off',
    HUBSPOT_API_BASE_URL: 'http://127.0.0.1:9',
    SIEM_POLL_MS: '50',
    // The receiver listens on loopback, which a server sends to only where its operator allows it.
    OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8',
    ...(postgres ? { DATABASE_URL: postgres.url, SECRETS_KEY: randomBytes(32).toString('base64') } : {}),
  };
  const receiver = await startReceiver();
  try {
    console.error(`siem ${kind}: seeding ${backlogOf(kind)} audit events`);
    const seeded = await seedAuditBacklog(env, backlogOf(kind), 'the SIEM benchmark');
    const server = await startServer(env);
    try {
      console.error(`siem ${kind}: streaming`);
      const started = performance.now();
      const cpuBefore = server.cpuSeconds();
      const response = await fetch(`${server.url}/v1/admin/siem-destinations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${seeded.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'collector', kind: 'otlp', url: `${receiver.url}/v1/logs` }),
      });
      const { headSeq } = (await response.json()) as { headSeq: number };
      let count: Count = { records: 0, requests: 0, lastSeq: 0, outOfOrder: 0 };
      while (count.lastSeq < headSeq) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        count = await countOf(receiver);
      }
      const seconds = (performance.now() - started) / 1000;
      const cpuMsPer1000 = ((server.cpuSeconds() - cpuBefore) * 1e6) / headSeq;
      return { headSeq, seeded, seconds, cpuMsPer1000, count, peakMb: server.peakMemoryMb() };
    } finally {
      await server.stop();
    }
  } finally {
    receiver.stop();
    await postgres?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

type Count = { records: number; requests: number; lastSeq: number; outOfOrder: number };
const countOf = async (receiver: { url: string }) => (await (await fetch(receiver.url)).json()) as Count;

/** Change-set throughput with no destination, then while another workspace's backlog streams. */
async function measureLoad(kind: 'pglite' | 'postgres') {
  const postgres = kind === 'postgres' ? await createBenchPostgres() : undefined;
  if (kind === 'postgres' && !postgres) return undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-siem-load-'));
  const hubspot = createHubSpotState();
  const fake = createFakeHubSpotHttpServer(hubspot);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    DEMO: 'off',
    HUBSPOT_API_BASE_URL: await fake.listen(),
    HUBSPOT_CALLS_PER_10S: '100000',
    APPROVAL_JOBS: 'off',
    SIEM_POLL_MS: '50',
    // The receiver listens on loopback, which a server sends to only where its operator allows it.
    OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8',
    ...(postgres ? { DATABASE_URL: postgres.url, SECRETS_KEY: randomBytes(32).toString('base64') } : {}),
  };
  const receiver = await startReceiver();
  try {
    const { workspaceId, agentToken } = await benchWorkspace(env, hubspot.accessToken, 'bench-enricher');
    await cli(env, 'policy', 'apply', '--workspace', workspaceId, POLICY);
    await cli(env, 'bootstrap', '--workspace', workspaceId);
    console.error(`siem load ${kind}: seeding ${backlogOf(kind)} audit events in a second workspace`);
    const seeded = await seedAuditBacklog(env, backlogOf(kind), 'the SIEM benchmark');
    const server = await startServer(env);
    let sent = 0;
    /** Decisions per second, and the server's CPU milliseconds per 1,000 decisions (less swayed by other load). */
    const changeSets = async () => {
      let decisions = 0;
      const started = performance.now();
      const cpuBefore = server.cpuSeconds();
      for (let n = 0; n < LOAD.changeSets; n++) {
        const ids = Array.from({ length: LOAD.records }, () =>
          seedRecord(hubspot, 'contacts', { properties: { email: `b${sent++}@example.com` } }),
        );
        const response = await fetch(`${server.url}/v1/changesets`, {
          method: 'POST',
          headers: { authorization: `Bearer ${agentToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ batchId: `load-${sent}`, objectType: 'contacts', changes: changesFor(ids) }),
        });
        if (response.status !== 201) throw new Error(`submission failed: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
        decisions += LOAD.records * 10;
      }
      return {
        perSecond: decisions / ((performance.now() - started) / 1000),
        cpuMsPer1000: ((server.cpuSeconds() - cpuBefore) * 1e6) / decisions,
      };
    };
    try {
      await changeSets(); // warm-up: JIT, property cache, connection pool
      const aloneBefore = await changeSets();
      const admin = { authorization: `Bearer ${seeded.adminToken}`, 'content-type': 'application/json' };
      const response = await fetch(`${server.url}/v1/admin/siem-destinations`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ name: 'collector', kind: 'otlp', url: `${receiver.url}/v1/logs` }),
      });
      const { id, headSeq } = (await response.json()) as { id: string; headSeq: number };
      // Under way before the clock starts, so the whole measured load meets streaming.
      while ((await countOf(receiver)).records === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      const before = await countOf(receiver);
      const streaming = await changeSets();
      const after = await countOf(receiver);
      // Alone again once streaming stops: against the mean of the runs alone before and after, the
      // slowdown the load itself brings (the agent's workspace grows) does not count as streaming's.
      await (
        await fetch(`${server.url}/v1/admin/siem-destinations/${id}`, { method: 'DELETE', headers: admin })
      ).text();
      const aloneAfter = await changeSets();
      return {
        alone: (aloneBefore.perSecond + aloneAfter.perSecond) / 2,
        streaming: streaming.perSecond,
        cpuAlone: (aloneBefore.cpuMsPer1000 + aloneAfter.cpuMsPer1000) / 2,
        cpuStreaming: streaming.cpuMsPer1000,
        stillStreaming: after.lastSeq < headSeq,
        streamed: after.records,
        streamedDuring: after.records - before.records,
        headSeq,
      };
    } finally {
      await server.stop();
    }
  } finally {
    receiver.stop();
    await fake.close();
    await postgres?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchSiemLoad(only?: string): Promise<BenchTable[]> {
  const rows = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
    const result = await measureLoad(kind);
    if (!result) {
      console.log(`siem load ${kind}: skipped (no Postgres reachable; set BENCH_DATABASE_URL)`);
      continue;
    }
    const drop = 1 - result.streaming / result.alone;
    rows.push({
      database: kind,
      'decisions/s alone (mean of before and after)': Math.round(result.alone),
      'decisions/s while streaming': Math.round(result.streaming),
      'drop %': (drop * 100).toFixed(1),
      [`goal ≤ ${GOAL_LOAD_DROP * 100}%`]: drop <= GOAL_LOAD_DROP,
      'server CPU ms per 1,000 decisions alone': Number(result.cpuAlone.toFixed(1)),
      'while streaming': Number(result.cpuStreaming.toFixed(1)),
      'CPU added %': ((result.cpuStreaming / result.cpuAlone - 1) * 100).toFixed(1),
      'events streamed meanwhile': `${result.streamed} of ${result.headSeq}`,
      'of which during the change sets': result.streamedDuring,
      'still streaming at the end': result.stillStreaming,
    });
  }
  return [
    {
      title: `Change sets of ${LOAD.records} contacts × 10 properties (${LOAD.changeSets} per run), agent API → server process, with and without a backlog streaming to a local OTLP receiver:`,
      rows,
    },
  ];
}

export async function benchSiem(only?: string): Promise<BenchTable[]> {
  const rows = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
    const result = await measure(kind);
    if (!result) {
      console.log(`siem ${kind}: skipped (no Postgres reachable; set BENCH_DATABASE_URL)`);
      continue;
    }
    rows.push({
      database: kind,
      'events streamed': result.headSeq,
      requests: result.count.requests,
      seconds: result.seconds.toFixed(2),
      'events/s': Math.round(result.headSeq / result.seconds),
      [`goal ${GOAL_PER_SECOND}/s (Postgres)`]:
        kind === 'postgres' ? result.headSeq / result.seconds >= GOAL_PER_SECOND : '-',
      'out of order': result.count.outOfOrder,
      'server CPU ms per 1,000 events': Number(result.cpuMsPer1000.toFixed(1)),
      'server peak MB': result.peakMb,
      'seeding events/s': Math.round(backlogOf(kind) / result.seeded.seconds),
    });
  }
  return [
    {
      title: 'Audit streaming: a stored backlog to a local OTLP/HTTP receiver (second process), 1,000 per request:',
      rows,
    },
  ];
}

if (import.meta.main) {
  const mode = process.argv.find((arg) => arg.startsWith('--mode='))?.slice('--mode='.length);
  if (mode !== 'load') printTables(await benchSiem(databaseArgument()));
  if (mode !== 'backlog') printTables(await benchSiemLoad(databaseArgument()));
}
