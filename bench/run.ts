/**
 * `npm run bench`: a change set of 1,000 contacts × 10 properties through the real agent API,
 * the real HubSpot adapter and a fake HubSpot over real HTTP, on PGlite and (when reachable) Postgres.
 * Prints HubSpot calls against the floor, decisions stored per second, wall time against the
 * floor a rate limit sets, and peak memory.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createApp } from '../server/src/app.ts';
import { silentLogger } from '../server/src/logger.ts';
import { hubspotResolver } from '../server/src/runtime.ts';
import { createAgent } from '../server/src/services/agents.ts';
import type { Actor, ServiceDeps } from '../server/src/services/deps.ts';
import { bootstrapWorkspace } from '../server/src/services/bootstrap.ts';
import { publishPolicy } from '../server/src/services/policies.ts';
import { createWorkspace } from '../server/src/services/workspaces.ts';
import { createSecretBox } from '../server/src/secrets.ts';
import { createFakeHubSpotHttpServer } from '../server/src/sandbox/hubspot/http-server.ts';
import { createHubSpotState, seedRecord, type HubSpotState } from '../server/src/sandbox/hubspot/state.ts';
import { openBenchDatabase } from './databases.ts';

const RECORDS = 1_000;
const PROPERTIES = 10;
const ADMIN: Actor = { type: 'admin', via: 'cli', name: 'bench' };
const POLICY: unknown = JSON.parse(fs.readFileSync(new URL('../examples/policy.json', import.meta.url), 'utf8'));
const READ = 'POST /crm/v3/objects/{type}/batch/read';
const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';

// Six auto, two approval and two unnamed (denied) properties: every kind of decision is stored.
function changesFor(ids: string[]) {
  return ids.map((recordId, i) => ({
    recordId,
    properties: {
      jobtitle: `Engineer ${i}`, company: `Company ${i}`, industry: 'Software', city: 'Paris', country: 'France', numemployees: '25-50',
      phone: `+33 1 00 00 ${String(i).padStart(4, '0')}`, mobilephone: `+33 6 00 00 ${String(i).padStart(4, '0')}`,
      firstname: `First${i}`, lastname: `Last${i}`,
    },
    evidence: { source: 'bench-provider', url: `https://example.com/p/${i}`, confidence: 0.9, reason: 'Benchmark enrichment', runId: 'bench' },
  }));
}

async function measure(kind: 'pglite' | 'postgres') {
  const database = await openBenchDatabase(kind);
  if (!database) return undefined;
  const hubspot: HubSpotState = createHubSpotState();
  const fake = createFakeHubSpotHttpServer(hubspot);
  const hubspotUrl = await fake.listen();
  const secrets = createSecretBox(Buffer.alloc(32, 7));
  const deps: ServiceDeps = {
    db: database.db,
    clock: () => new Date(),
    secrets,
    crmFor: hubspotResolver({ baseUrl: hubspotUrl, callsPer10s: 100, open: (sealed) => secrets.open(sealed) }),
  };
  const app = createApp({ deps, database, logger: silentLogger, maxBodyBytes: 16 * 1024 * 1024, publicUrl: 'http://127.0.0.1' });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const workspace = await createWorkspace(deps, { name: 'Bench', hubspotPortalId: '1', hubspotToken: hubspot.accessToken }, ADMIN);
  await publishPolicy(deps, workspace.id, POLICY, ADMIN);
  const agent = await createAgent(deps, workspace.id, { name: 'bench-enricher', role: 'enrichment' }, ADMIN);
  await bootstrapWorkspace(deps, workspace.id, ADMIN);
  const seed = (n: number) => Array.from({ length: n }, (_, i) => seedRecord(hubspot, 'contacts', { properties: { email: `b${i}@example.com` } }));
  const submit = async (ids: string[], batchId: string) => {
    const started = performance.now();
    const response = await fetch(`${url}/v1/changesets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
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

  await submit(seed(50), 'warm-up'); // JIT, property cache, connection pool
  hubspot.calls.clear();
  const fast = await submit(seed(RECORDS), 'latency-0');
  const calls = { reads: hubspot.calls.count({ route: READ }), updates: hubspot.calls.count({ route: UPDATE }), other: 0 };
  calls.other = hubspot.calls.count() - calls.reads - calls.updates;

  hubspot.faults.latencyMs = 100;
  hubspot.faults.setRateLimit({ maxCalls: 100, intervalMs: 10_000 });
  hubspot.calls.clear();
  const limited = await submit(seed(RECORDS), 'latency-100');
  const limitedCalls = hubspot.calls.count();
  // The floor: the calls cannot be faster than their latency end to end, nor than the limit admits them.
  const floorSeconds = Math.max(limitedCalls * 0.1, Math.floor((limitedCalls - 1) / 100) * 10);

  await new Promise((resolve) => server.close(resolve));
  await fake.close();
  await database.close();
  return { kind, fast, calls, limited, limitedCalls, floorSeconds };
}

const rows = [];
const only = process.argv.find((arg) => arg.startsWith('--db='))?.slice('--db='.length);
for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
  const result = await measure(kind);
  if (!result) {
    console.log(`${kind}: skipped (no database reachable; set BENCH_DATABASE_URL)`);
    continue;
  }
  const decisions = RECORDS * PROPERTIES;
  const floorCalls = 2 * Math.ceil(RECORDS / 100);
  rows.push({
    database: kind,
    'HubSpot calls (read+update)': `${result.calls.reads}+${result.calls.updates} (floor ${floorCalls / 2}+${floorCalls / 2}, other ${result.calls.other})`,
    'decisions stored/s': Math.round(decisions / ((result.fast.phases.decide ?? Number.NaN) / 1000)),
    'field writes/s end to end': Math.round(decisions / result.fast.seconds),
    'wall s (latency 0)': result.fast.seconds.toFixed(2),
    'wall s (100 ms, 100/10 s)': result.limited.seconds.toFixed(2),
    'floor s': result.floorSeconds.toFixed(2),
    'ratio to floor': (result.limited.seconds / result.floorSeconds).toFixed(3),
    'phases ms (latency 0)': Object.entries(result.fast.phases).map(([name, ms]) => `${name} ${Math.round(ms)}`).join(', '),
  });
  console.log(`${kind}: decisions ${JSON.stringify(result.fast.summary)}`);
}
console.log(`Change set of ${RECORDS} contacts × ${PROPERTIES} properties (${RECORDS * PROPERTIES} field writes), through the agent API:`);
console.table(rows);
console.log(`peak memory (max RSS of this process, both runs): ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
