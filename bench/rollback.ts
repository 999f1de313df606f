/**
 * Issue 7: `agent-governance rollback` as its own process (PGlite) against a fake HubSpot over
 * HTTP. 8,000 contacts × 1 property under 100 ms latency and 100 calls per 10 s: HubSpot calls
 * against the floor (one batch read and one batch write per 100 records) and the rollback's
 * wall time against the floor that limit sets. Then 100,000 items without latency: the CLI
 * process's peak memory, which stays flat because the plan and the job stream.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../server/src/config.ts';
import { openRuntime, type Runtime } from '../server/src/runtime.ts';
import { createFakeHubSpotHttpServer } from '../server/src/sandbox/hubspot/http-server.ts';
import { createHubSpotState, seedRecord, type HubSpotState } from '../server/src/sandbox/hubspot/state.ts';
import { createAgent, bootstrapWorkspace, createWorkspace } from '../server/src/services/governance/index.ts';
import { decisionEvents } from '../server/src/services/change-sets/decision-events.ts';
import { type Actor, lockAuditChain, newId } from '../server/src/services/common/index.ts';
import { type ChangeRow, insertChanges, insertChangeSet, type NewChangeRow } from '../server/src/store/change-store.ts';
import { rollbacks } from '../server/src/store/schema.ts';
import { createBenchPostgres } from './databases.ts';
import { measuredCli } from './server-process.ts';
import { type BenchTable, databaseArgument, printTables } from './report.ts';

const READ = 'POST /crm/v3/objects/{type}/batch/read';
const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';
const ADMIN: Actor = { type: 'admin', via: 'cli', name: 'bench' };
const CHANGES_PER_SET = 10_000;

/**
 * A workspace whose agent's batch `bad-batch` wrote one job title on each of `records`
 * contacts: the change rows and their `change.decided` events go straight into the store
 * (submitting 100,000 changes through the API would measure the API), the fake holds the written values.
 */
async function seedAppliedBatch(runtime: Runtime, hubspot: HubSpotState, records: number): Promise<string> {
  const { deps } = runtime;
  const workspace = await createWorkspace(
    deps,
    { name: 'Bench', hubspotPortalId: '1', hubspotToken: hubspot.accessToken },
    ADMIN,
  );
  const agent = await createAgent(deps, workspace.id, { name: 'bench-enricher', role: 'enrichment' }, ADMIN);
  await bootstrapWorkspace(deps, workspace.id, ADMIN);
  for (let start = 0; start < records; start += CHANGES_PER_SET) {
    const changeSetId = newId();
    const rows: NewChangeRow[] = [];
    for (let i = start; i < Math.min(records, start + CHANGES_PER_SET); i += 1) {
      const recordId = seedRecord(hubspot, 'contacts', {
        properties: { email: `b${i}@example.com`, jobtitle: `Wrong title ${i}` },
      });
      rows.push({
        id: newId(),
        workspaceId: workspace.id,
        changeSetId,
        ordinal: i - start,
        recordId,
        property: 'jobtitle',
        beforeValue: `Engineer ${i}`,
        proposedValue: `Wrong title ${i}`,
        tier: 'auto',
        decision: 'applied',
        reasons: ['tier_auto'],
        message: null,
      });
    }
    await deps.db.transaction(async (tx) => {
      await insertChangeSet(tx, {
        id: changeSetId,
        workspaceId: workspace.id,
        agentId: agent.id,
        batchId: 'bad-batch',
        objectType: 'contacts',
        policyVersion: 0,
        status: 'completed',
        createdAt: new Date(),
      });
      await insertChanges(tx, rows);
      // The rollback writes back only what the audit trail recorded before each change, as a submission records it.
      const audit = await lockAuditChain(tx, workspace.id, deps.clock);
      await audit.appendAll(
        decisionEvents(rows as ChangeRow[], new Map(), {
          actor: ADMIN,
          agentId: agent.id,
          batchId: 'bad-batch',
          objectType: 'contacts',
          policyVersion: 0,
        }),
      );
      await audit.flush();
    });
  }
  return workspace.id;
}

async function measure(input: {
  kind: 'pglite' | 'postgres';
  records: number;
  latencyMs: number;
  callsPer10s: number | undefined;
}) {
  const postgres = input.kind === 'postgres' ? await createBenchPostgres() : undefined;
  if (input.kind === 'postgres' && !postgres) return undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-rollback-'));
  const hubspot = createHubSpotState();
  const fake = createFakeHubSpotHttpServer(hubspot);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    HUBSPOT_API_BASE_URL: await fake.listen(),
    HUBSPOT_CALLS_PER_10S: String(input.callsPer10s ?? 100_000),
  };
  delete env.DATABASE_URL;
  if (postgres) Object.assign(env, { DATABASE_URL: postgres.url, SECRETS_KEY: randomBytes(32).toString('base64') });
  try {
    let runtime = await openRuntime(loadConfig(env), 'the rollback benchmark');
    let workspaceId: string;
    try {
      workspaceId = await seedAppliedBatch(runtime, hubspot, input.records);
    } finally {
      await runtime.close(); // the CLI takes the PGlite folder next
    }
    hubspot.faults.latencyMs = input.latencyMs;
    if (input.callsPer10s !== undefined)
      hubspot.faults.setRateLimit({ maxCalls: input.callsPer10s, intervalMs: 10_000 });
    // What the CLI process takes for any command on this database (modules, driver, migrations check): the rollback's floor.
    const baseline = await measuredCli(env, ['migrate', '--json']);
    hubspot.calls.clear();
    const cli = await measuredCli(env, ['rollback', '--workspace', workspaceId, '--batch', 'bad-batch', '--json']);
    runtime = await openRuntime(loadConfig(env), 'the rollback benchmark');
    try {
      const [row] = await runtime.deps.db.select().from(rollbacks);
      const rollbackSeconds = (row!.completedAt!.getTime() - row!.createdAt.getTime()) / 1000;
      return {
        cli,
        baselineMb: baseline.peakMemoryMb,
        rollbackSeconds,
        reads: hubspot.calls.count({ route: READ }),
        updates: hubspot.calls.count({ route: UPDATE }),
        other: hubspot.calls.count() - hubspot.calls.count({ route: READ }) - hubspot.calls.count({ route: UPDATE }),
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

const LIMITED = { records: 8_000, latencyMs: 100, callsPer10s: 100 };
const LARGE = { records: 100_000, latencyMs: 0, callsPer10s: undefined };

export async function benchRollback(only?: string): Promise<BenchTable[]> {
  const rows = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
    const timed = await measure({ kind, ...LIMITED });
    if (!timed) {
      console.log(`rollback ${kind}: skipped (no Postgres reachable; set BENCH_DATABASE_URL)`);
      continue;
    }
    const calls = timed.reads + timed.updates + timed.other;
    // The floor the limit sets: its sustained rate, 10 calls a second (here also the time the calls take one after another).
    // HubSpot's window is rolling, so the first 10 s may take 100 calls at once: a run that keeps a read in flight
    // beside each write can come in under that floor, never under the bound (call 101 starts 10 s after call 1).
    const floorSeconds = (calls / LIMITED.callsPer10s) * 10;
    const boundSeconds = Math.floor((calls - 1) / LIMITED.callsPer10s) * 10 + LIMITED.latencyMs / 1000;
    rows.push({
      database: kind,
      items: LIMITED.records,
      HubSpot: `${LIMITED.latencyMs} ms, ${LIMITED.callsPer10s}/10 s`,
      'calls read+update': `${timed.reads}+${timed.updates} (floor ${LIMITED.records / 100}+${LIMITED.records / 100}, other ${timed.other})`,
      'rollback s': timed.rollbackSeconds.toFixed(2),
      'floor s': floorSeconds.toFixed(2),
      'ratio to floor': (timed.rollbackSeconds / floorSeconds).toFixed(3),
      'bound s': boundSeconds.toFixed(2),
      'CLI wall s': timed.cli.seconds.toFixed(2),
      'CLI peak MB': timed.cli.peakMemoryMb,
      'CLI migrate-only peak MB': timed.baselineMb,
      counts: JSON.stringify(timed.cli.output.counts),
    });
    const large = await measure({ kind, ...LARGE });
    if (!large) continue;
    rows.push({
      database: kind,
      items: LARGE.records,
      HubSpot: 'no latency, no limit',
      'calls read+update': `${large.reads}+${large.updates} (floor 1000+1000, other ${large.other})`,
      'rollback s': large.rollbackSeconds.toFixed(2),
      'floor s': '-',
      'ratio to floor': '-',
      'bound s': '-',
      'CLI wall s': large.cli.seconds.toFixed(2),
      'CLI peak MB': large.cli.peakMemoryMb,
      'CLI migrate-only peak MB': large.baselineMb,
      counts: JSON.stringify(large.cli.output.counts),
    });
  }
  // PGlite is Postgres compiled to WASM inside the CLI process: its peak includes the database's own memory.
  return [
    {
      title:
        'Rollback (agent-governance rollback, its own process) against a fake HubSpot over HTTP; PGlite peaks include the database engine:',
      rows,
    },
  ];
}

if (import.meta.main) printTables(await benchRollback(databaseArgument()));
