/**
 * Issue 23: many portals on one server, fairly. Twenty workspaces, each on its own fake HubSpot portal
 * (its own token, records and rolling limit of 100 calls per 10 s, 100 ms latency), submit change sets to
 * one server process at once; one of them floods with ten times the others' volume. Prints each quiet
 * workspace's wall time against its time alone (goal ≤ 1.2×) and the decisions the server stores per
 * second across all of them. The quiet ones also run together without the flood: their time beside the
 * flood against that is the flood's own cost (fairness), that against their time alone is what sharing one
 * process's CPU costs (capacity). Then steady traffic the server has CPU for: each quiet workspace ten
 * change sets of 20 contacts, one a second on Postgres and one every 4 s on PGlite, the flood ten a second
 * throughout, past its portal's limit; each quiet workspace's median change set against its median alone
 * (goal ≤ 1.2×).
 *
 *   node bench/portals.ts [--db=pglite|postgres] [--records=N]   (N contacts per quiet change set; default 100,
 *   so `npm run bench -- --only portals` takes minutes, not an hour)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../server/src/config.ts';
import { openRuntime } from '../server/src/runtime.ts';
import type { Actor } from '../server/src/services/common/index.ts';
import {
  bootstrapWorkspace,
  createAgent,
  createWorkspace,
  publishPolicy,
} from '../server/src/services/governance/index.ts';
import { createFakeHubSpotHttpServer } from '../server/src/sandbox/hubspot/http-server.ts';
import { createHubSpotState, seedRecord, type HubSpotState } from '../server/src/sandbox/hubspot/state.ts';
import { changesFor } from './change-set.ts';
import { createBenchPostgres } from './databases.ts';
import { type ServerProcess, startServer } from './server-process.ts';
import { type BenchTable, databaseArgument, printTables } from './report.ts';

const WORKSPACES = 20;
const FLOOD_FACTOR = 10;
const RECORDS = 100;
const PROPERTIES = 10;
const LATENCY_MS = 100;
const CALLS_PER_10S = 100;
const GOAL_RATIO = 1.2;
/** Steady traffic: change sets each quiet workspace submits, contacts per change set (× PROPERTIES), samples of each quiet one alone. */
const STEADY_CHANGE_SETS = 10;
const STEADY_RECORDS = 20;
const STEADY_ALONE_SAMPLES = 3;
/**
 * Seconds between a quiet workspace's change sets: traffic the server holds, so what is measured is
 * the flood's effect, not a saturated server's (the burst above measures that). A small change set
 * costs the server about 33 ms of CPU on Postgres and 79 ms on PGlite, whose database runs on the
 * server's own thread: 19 quiet workspaces at one a second fill that thread with no flood at all
 * (11.6× their time alone). At one every 4 s they take about 0.4 of it and the flood, paced to its
 * portal's limit, about as much. The flood submits ten a second on both.
 */
const STEADY_EVERY_SECONDS = { postgres: 1, pglite: 4 } as const;
const POLICY = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, '../examples/policy.json'), 'utf8'),
) as unknown;
const ADMIN: Actor = { type: 'admin', via: 'cli', name: 'bench' };

interface Portal {
  hubspot: HubSpotState;
  workspaceId: string;
  agentToken: string;
}

async function measure(kind: 'pglite' | 'postgres', records: number) {
  const postgres = kind === 'postgres' ? await createBenchPostgres() : undefined;
  if (kind === 'postgres' && !postgres) return undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-'));
  const accounts = Array.from({ length: WORKSPACES }, (_, i) =>
    createHubSpotState({ accessToken: `pat-na1-bench-portal-${i}`, portalId: String(70_000 + i) }),
  );
  const fake = createFakeHubSpotHttpServer(accounts);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    HUBSPOT_API_BASE_URL: await fake.listen(),
    HUBSPOT_CALLS_PER_10S: String(CALLS_PER_10S),
    // The held writes' HubSpot mirror has its own benchmark (approvals.ts).
    APPROVAL_JOBS: 'off',
    ...(postgres ? { DATABASE_URL: postgres.url, SECRETS_KEY: randomBytes(32).toString('base64') } : {}),
  };
  let server: ServerProcess | undefined;
  try {
    const portals = await createWorkspaces(env, accounts);
    server = await startServer(env);
    return {
      ...(await phases(server.url, portals, records, STEADY_EVERY_SECONDS[kind])),
      peakMemoryMb: server.peakMemoryMb(),
    };
  } finally {
    await server?.stop();
    await fake.close();
    await postgres?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Each quiet workspace alone, then the quiet ones at once without and with the flood, then steady traffic. */
async function phases(serverUrl: string, portals: Portal[], records: number, steadyEverySeconds: number) {
  let batches = 0;
  const submit = async (portal: Portal, size: number) => {
    const ids = Array.from({ length: size }, (_, i) =>
      seedRecord(portal.hubspot, 'contacts', { properties: { email: `p${batches}-${i}@example.com` } }),
    );
    batches += 1;
    const started = performance.now();
    const response = await fetch(`${serverUrl}/v1/changesets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${portal.agentToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ batchId: `portals-${batches}`, objectType: 'contacts', changes: changesFor(ids) }),
    });
    const body = await response.text();
    if (response.status !== 201) throw new Error(`submission failed: ${response.status} ${body}`);
    return (performance.now() - started) / 1000;
  };
  const [flood, ...quiet] = portals as [Portal, ...Portal[]];
  // JIT, each adapter's property cache, the connection pool.
  for (const portal of portals) await submit(portal, 10);
  for (const { hubspot } of portals) {
    hubspot.faults.latencyMs = LATENCY_MS;
    hubspot.faults.setRateLimit({ maxCalls: CALLS_PER_10S, intervalMs: 10_000 });
  }
  const alone: number[] = [];
  for (const portal of quiet) alone.push(await submit(portal, records));

  // A fresh window at every portal before each phase.
  const freshWindows = () => {
    for (const { hubspot } of portals) {
      hubspot.faults.setRateLimit({ maxCalls: CALLS_PER_10S, intervalMs: 10_000 });
      hubspot.calls.clear();
    }
  };
  // The quiet ones at once without the flood: what sharing one server costs them, apart from the flood.
  const quietAtOnce = () => {
    freshWindows();
    return Promise.all(quiet.map((portal) => submit(portal, records)));
  };
  // Everyone at once, the flood as ten change sets in parallel.
  const everyoneAtOnce = async () => {
    freshWindows();
    const started = performance.now();
    const floodDone = Promise.all(Array.from({ length: FLOOD_FACTOR }, () => submit(flood, records))).then(
      () => (performance.now() - started) / 1000,
    );
    const quietSeconds = await Promise.all(quiet.map((portal) => submit(portal, records)));
    const floodSeconds = await floodDone;
    const refused = portals.reduce((sum, { hubspot }) => sum + hubspot.calls.count({ status: 429 }), 0);
    return { quietSeconds, floodSeconds, allSeconds: (performance.now() - started) / 1000, refused };
  };
  // Each twice, in the order without, with, with, without: the machine is shared, and a load that
  // drifts during the run then weighs on both alike. Each figure is the mean of its two.
  const firstWithout = await quietAtOnce();
  const first = await everyoneAtOnce();
  const second = await everyoneAtOnce();
  const withoutFlood = mean(firstWithout, await quietAtOnce());
  const together = mean(first.quietSeconds, second.quietSeconds);
  const floodSeconds = (first.floodSeconds + second.floodSeconds) / 2;
  const allSeconds = (first.allSeconds + second.allSeconds) / 2;
  const refused = first.refused + second.refused;
  return { alone, withoutFlood, together, floodSeconds, allSeconds, refused, steady: await steadyTraffic() };

  /**
   * Traffic a server holds: each quiet workspace submits a small change set every `steadyEverySeconds`,
   * the flood ten a second, more than its portal's limit lets through, so its backlog waits on its own pacing.
   * Submissions go on schedule whatever the answers (agents do not wait for each other), the quiet
   * ones spread over the second. Each quiet workspace's median change set against its median alone.
   */
  async function steadyTraffic() {
    const aloneSamples = [];
    for (const portal of quiet) {
      const samples = [];
      for (let i = 0; i < STEADY_ALONE_SAMPLES; i += 1) samples.push(await submit(portal, STEADY_RECORDS));
      aloneSamples.push(samples);
    }
    freshWindows();
    const refusedBefore = portals.reduce((sum, { hubspot }) => sum + hubspot.calls.count({ status: 429 }), 0);
    const at = (ms: number, portal: Portal) =>
      new Promise<number>((resolve, reject) =>
        setTimeout(() => submit(portal, STEADY_RECORDS).then(resolve, reject), ms),
      );
    const started = performance.now();
    const quietRuns = quiet.map((portal, index) =>
      Promise.all(
        Array.from({ length: STEADY_CHANGE_SETS }, (_, turn) =>
          at((turn + index / quiet.length) * steadyEverySeconds * 1000, portal),
        ),
      ),
    );
    const floodRuns = Array.from({ length: STEADY_CHANGE_SETS * steadyEverySeconds * FLOOD_FACTOR }, (_, i) =>
      at((i * 1000) / FLOOD_FACTOR, flood),
    );
    const quietSeconds = await Promise.all(quietRuns);
    const floodSeconds = await Promise.all(floodRuns);
    return {
      alone: aloneSamples.map(median),
      together: quietSeconds.map(median),
      togetherP95: percentile(quietSeconds.flat(), 0.95),
      aloneP95: percentile(aloneSamples.flat(), 0.95),
      floodMedian: median(floodSeconds),
      changeSets: quietSeconds.flat().length + floodSeconds.length,
      allSeconds: (performance.now() - started) / 1000,
      refused: portals.reduce((sum, { hubspot }) => sum + hubspot.calls.count({ status: 429 }), 0) - refusedBefore,
    };
  }
}

/**
 * Each portal's workspace, policy, bootstrap and agent, in this process on the server's database
 * before the server starts: through the CLI that was 80 processes, most of a run on a loaded machine.
 */
async function createWorkspaces(env: Record<string, string>, accounts: HubSpotState[]): Promise<Portal[]> {
  const runtime = await openRuntime(loadConfig(env), 'portals bench setup');
  try {
    const portals: Portal[] = [];
    for (const [i, hubspot] of accounts.entries()) {
      const { deps } = runtime;
      const { id } = await createWorkspace(
        deps,
        { name: `Bench ${i}`, hubspotPortalId: hubspot.portalId, hubspotToken: hubspot.accessToken },
        ADMIN,
      );
      await publishPolicy(deps, id, POLICY, ADMIN);
      await bootstrapWorkspace(deps, id, ADMIN);
      const agent = await createAgent(deps, id, { name: `bench-enricher-${i}`, role: 'enrichment' }, ADMIN);
      portals.push({ hubspot, workspaceId: id, agentToken: agent.token });
    }
    return portals;
  } finally {
    await runtime.close();
  }
}

const mean = (a: readonly number[], b: readonly number[]) => a.map((value, i) => (value + b[i]!) / 2);

const percentile = (values: readonly number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return sorted.length % 2 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export async function benchPortals(only?: string, records: number = RECORDS): Promise<BenchTable[]> {
  const summary = [];
  const perWorkspace = [];
  const steady = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
    const result = await measure(kind, records);
    if (!result) {
      console.log(`${kind}: skipped (no Postgres reachable; set BENCH_DATABASE_URL)`);
      continue;
    }
    const ratios = result.together.map((seconds, i) => seconds / result.alone[i]!);
    const decisions = (WORKSPACES - 1 + FLOOD_FACTOR) * records * PROPERTIES;
    summary.push({
      database: kind,
      'quiet alone s (median)': median(result.alone).toFixed(2),
      'quiet together s (median)': median(result.together).toFixed(2),
      'ratio median': median(ratios).toFixed(3),
      'quiet together without the flood s (median)': median(result.withoutFlood).toFixed(2),
      'flood’s own cost, ratio median': median(
        result.together.map((seconds, i) => seconds / result.withoutFlood[i]!),
      ).toFixed(3),
      'ratio worst': Math.max(...ratios).toFixed(3),
      [`quiet within ${GOAL_RATIO}×`]: `${ratios.filter((ratio) => ratio <= GOAL_RATIO).length}/${ratios.length}`,
      'flood s': result.floodSeconds.toFixed(2),
      'all done s': result.allSeconds.toFixed(2),
      'decisions/s, all workspaces': Math.round(decisions / result.allSeconds),
      'HubSpot 429s': result.refused,
      'server peak MB': result.peakMemoryMb,
    });
    const steadyRatios = result.steady.together.map((seconds, i) => seconds / result.steady.alone[i]!);
    steady.push({
      database: kind,
      'quiet every s': STEADY_EVERY_SECONDS[kind],
      'quiet alone s (median)': median(result.steady.alone).toFixed(3),
      'quiet in the traffic s (median)': median(result.steady.together).toFixed(3),
      'ratio median': median(steadyRatios).toFixed(3),
      'ratio worst': Math.max(...steadyRatios).toFixed(3),
      [`quiet within ${GOAL_RATIO}×`]: `${steadyRatios.filter((ratio) => ratio <= GOAL_RATIO).length}/${steadyRatios.length}`,
      'quiet p95 alone / in the traffic s': `${result.steady.aloneP95.toFixed(3)} / ${result.steady.togetherP95.toFixed(3)}`,
      'flood change set s (median)': result.steady.floodMedian.toFixed(2),
      'decisions/s, all workspaces': Math.round(
        (result.steady.changeSets * STEADY_RECORDS * PROPERTIES) / result.steady.allSeconds,
      ),
      'HubSpot 429s': result.steady.refused,
    });
    for (const [i, seconds] of result.together.entries()) {
      perWorkspace.push({
        database: kind,
        workspace: i + 1,
        'alone s': result.alone[i]!.toFixed(2),
        'together, no flood s': result.withoutFlood[i]!.toFixed(2),
        'together s': seconds.toFixed(2),
        ratio: ratios[i]!.toFixed(3),
      });
    }
  }
  const volume = `${records.toLocaleString('en-US')} contacts × ${PROPERTIES} properties`;
  return [
    {
      title: `${WORKSPACES} workspaces on their own portals (${CALLS_PER_10S} calls/10 s, ${LATENCY_MS} ms), ${WORKSPACES - 1} quiet ones submitting a change set of ${volume} each, one flooding with ${FLOOD_FACTOR} at once; goal: every quiet one within ${GOAL_RATIO}× its time alone:`,
      rows: summary,
    },
    { title: 'Each quiet workspace, alone and beside the others:', rows: perWorkspace },
    {
      title: `Steady traffic: each quiet workspace ${STEADY_CHANGE_SETS} change sets of ${STEADY_RECORDS} contacts × ${PROPERTIES} properties, one every ${Object.entries(
        STEADY_EVERY_SECONDS,
      )
        .map(([kind, seconds]) => `${seconds} s on ${kind}`)
        .join(
          ', ',
        )}, the flood ${FLOOD_FACTOR} a second throughout (past its portal's limit); goal: every quiet one's median within ${GOAL_RATIO}× its median alone:`,
      rows: steady,
    },
  ];
}

if (import.meta.main) {
  const recordsArgument = process.argv.find((arg) => arg.startsWith('--records='))?.slice('--records='.length);
  printTables(
    await benchPortals(databaseArgument(), recordsArgument === undefined ? RECORDS : Number(recordsArgument)),
  );
}
