/**
 * Issue 20: against the local Salesforce with 100 ms per answer, in a process of its own
 * (salesforce-org.ts), on PGlite and on Postgres: a change set of 1,000 contacts × 10 fields, then a rollback of 8,000 contacts × 1 field.
 * Prints the API calls each made against the floor (reads at 2,000 ids a call, writes at 200 records
 * a call or one Bulk job), by kind, and the wall time as a ratio to the floor's time.
 * `npm run bench -- --only salesforce [--db=pglite|postgres]`; `BENCH_SALESFORCE_ONLY=rollback` measures the
 * rollback alone (the change set still runs to set it up, unmeasured), `BENCH_SALESFORCE_ONLY=change-set`
 * the change set alone (the rollback and its setup are not run).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import readline from 'node:readline';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { READ_BATCH_LIMIT, WRITE_BATCH_LIMIT, WRITE_LIMIT } from '../server/src/crm/salesforce/adapter.ts';
import { salesforceResolver } from '../server/src/runtime.ts';
import { createSecretBox } from '../server/src/secrets.ts';
import { submitChangeSet } from '../server/src/services/change-sets/index.ts';
import { type Actor, outboundTo, type ServiceDeps } from '../server/src/services/common/index.ts';
import {
  authenticateAgent,
  bootstrapWorkspace,
  createAgent,
  createSalesforceWorkspace,
  publishPolicy,
  recordCrmBudgetStop,
} from '../server/src/services/governance/index.ts';
import { claimAndRunRollback, startRollback } from '../server/src/services/rollbacks/index.ts';
import { openDatabase } from '../server/src/store/database.ts';
import { setSalesforceSession } from '../server/src/store/workspace-store.ts';
import { createBenchPostgres } from './databases.ts';
import { type BenchTable, databaseArgument, printTables } from './report.ts';
import { AllowedNetworks } from '../server/src/domain/outbound-addresses.ts';

const LATENCY_MS = 100;
const FIELDS = Array.from({ length: 10 }, (_, i) => `Bench${i}`);
const ADMIN: Actor = { type: 'admin', via: 'cli', name: 'bench' };
/** `rollback` or `change-set` (also `change set`): the run whose name starts so is measured, the other not. */
const ONLY = process.env.BENCH_SALESFORCE_ONLY?.replace('-', ' ');

/**
 * The fewest calls for `records` records read then written, 2,000 to a write: a retrieve call per
 * 2,000 ids, and per write whichever is fewer of a Collections call per 200 records and one Bulk
 * job's four calls (open, upload, close, one look at its state), whatever path the adapter takes.
 */
export function floorCalls(records: number): number {
  let calls = 0;
  for (let done = 0; done < records; done += WRITE_LIMIT) {
    const write = Math.min(WRITE_LIMIT, records - done);
    calls += Math.ceil(write / READ_BATCH_LIMIT);
    calls += Math.min(BULK_JOB_CALLS, Math.ceil(write / WRITE_BATCH_LIMIT));
  }
  return calls;
}
const BULK_JOB_CALLS = 4;

/** The calls a run made, by kind (`read 4, write 40, describe 1`): extra calls show which kind they are. */
export function callsByKind(calls: readonly { method: string; path: string }[]): string {
  const kinds = new Map<string, number>();
  for (const { method, path } of calls) {
    const kind = path.startsWith('/jobs/ingest')
      ? 'bulk'
      : method === 'POST' && path.startsWith('/composite/sobjects/')
        ? 'read'
        : method === 'PATCH' && path.startsWith('/composite/sobjects')
          ? 'write'
          : path.endsWith('/describe')
            ? 'describe'
            : path === '/query'
              ? 'history'
              : `${method} ${path}`;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].map(([kind, n]) => `${kind} ${n}`).join(', ');
}

async function measureRuns(kind: 'pglite' | 'postgres', rows: Record<string, string | number>[]): Promise<boolean> {
  const postgres = kind === 'postgres' ? await createBenchPostgres() : undefined;
  if (kind === 'postgres' && !postgres) return false;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-sf-'));
  const database = await openDatabase({ databaseUrl: postgres?.url, dataDir, holder: 'bench' });
  await database.migrate();
  const org = await startBenchOrg(8_000);
  const { url, ids } = org;
  const secrets = createSecretBox(randomBytes(32));
  const deps: ServiceDeps = {
    db: database.db,
    clock: () => new Date(),
    secrets,
    crmFor: salesforceResolver({
      secrets,
      // The local Salesforce this benchmark started, on loopback.
      addresses: { networks: new AllowedNetworks([]), localOrigins: new Set([new URL(url).origin]) },
      saveSession: (workspaceId, sealed) => setSalesforceSession(database.db, workspaceId, sealed),
      onBudgetStop: (workspaceId, usage) => recordCrmBudgetStop(deps, workspaceId, usage),
    }),
    checkSignedRequest: () => ({ ok: true }),
    outbound: outboundTo([]),
  };

  try {
    const workspace = await createSalesforceWorkspace(
      deps,
      {
        name: 'Bench',
        connection: { loginUrl: url, auth: { kind: 'client_credentials', ...org.client } },
      },
      ADMIN,
    );
    await publishPolicy(
      deps,
      workspace.id,
      {
        name: 'bench',
        timezone: 'UTC',
        objects: {
          'salesforce:Contact': {
            properties: Object.fromEntries(['Title', ...FIELDS].map((f) => [f, { enrichment: 'auto' }])),
          },
        },
      },
      ADMIN,
    );
    await bootstrapWorkspace(deps, workspace.id, ADMIN);
    const created = await createAgent(deps, workspace.id, { name: 'bench', role: 'enrichment' }, ADMIN);
    const { agent, workspace: row } = await authenticateAgent(deps, created.token);
    const evidence = { source: 'bench', confidence: 0.95, reason: 'bench' };
    // Warm-up on other contacts, as a serving process is warm: the JIT, the connection pool, and
    // the describe that bootstrap dropped when it created the bench's fields (cached 10 minutes an object).
    await submitChangeSet(deps, {
      agent,
      workspace: row,
      request: {
        batchId: 'warm-up',
        objectType: 'salesforce:Contact',
        changes: ids.slice(1_000, 1_200).map((recordId, i) => ({
          recordId,
          properties: Object.fromEntries(FIELDS.map((f) => [f, `w${i}`])),
          evidence,
        })),
      },
    });
    await org.setLatency(LATENCY_MS);

    const measure = async (what: string, floorCalls: number, work: () => Promise<unknown>) => {
      if (ONLY && !what.startsWith(ONLY)) {
        await work();
        return;
      }
      await org.clearCalls();
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      await work();
      const ms = performance.now() - started;
      const cpu = process.cpuUsage(cpuStarted);
      const made = await org.calls();
      const calls = made.length;
      const floorMs = floorCalls * LATENCY_MS;
      rows.push({
        database: kind,
        run: what,
        'API calls': calls,
        'floor calls': floorCalls,
        'calls by kind': callsByKind(made),
        ms: Math.round(ms),
        // The process's CPU (ours, PGlite's and the local Salesforce's): on a loaded machine, steadier than wall time.
        'CPU ms': Math.round((cpu.user + cpu.system) / 1_000),
        'floor ms': floorMs,
        'ratio to floor': (ms / floorMs).toFixed(2),
      });
    };

    // 1,000 ids are one retrieve call; 1,000 records one write (5 Collections calls, or a Bulk job).
    await measure('change set 1,000 contacts × 10 fields', floorCalls(1_000), () =>
      submitChangeSet(deps, {
        agent,
        workspace: row,
        request: {
          batchId: 'ten-fields',
          objectType: 'salesforce:Contact',
          changes: ids.slice(0, 1_000).map((recordId, i) => ({
            recordId,
            properties: Object.fromEntries(FIELDS.map((f) => [f, `v${i}`])),
            evidence,
          })),
        },
      }),
    );

    if (ONLY && 'change set'.startsWith(ONLY)) return true;
    await org.setLatency(0);
    for (let i = 0; i < 8; i++)
      await submitChangeSet(deps, {
        agent,
        workspace: row,
        request: {
          batchId: 'titles',
          objectType: 'salesforce:Contact',
          changes: ids
            .slice(i * 1_000, (i + 1) * 1_000)
            .map((recordId, j) => ({ recordId, properties: { Title: `Wrong ${j}` }, evidence })),
        },
      });
    await org.setLatency(LATENCY_MS);
    // 8,000 ids are 4 retrieve calls of 2,000; each 2,000 records one write.
    await measure('rollback 8,000 contacts × 1 field', floorCalls(8_000), async () => {
      const rollback = await startRollback(
        deps,
        workspace.id,
        { selector: { batchId: 'titles' }, dryRun: false, force: false },
        ADMIN,
      );
      const result = await claimAndRunRollback(deps, {
        holder: 'bench',
        leaseMs: 60_000,
        only: { workspaceId: workspace.id, id: rollback.id },
      });
      if (result !== 'completed') throw new Error(`the rollback ended ${result}`);
    });
  } finally {
    await org.stop();
    await database.close();
    await postgres?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return true;
}

/** The local Salesforce in its own process, seeded with `contacts` contacts and the bench's fields. */
async function startBenchOrg(contacts: number) {
  const child = spawn(
    process.execPath,
    [path.join(import.meta.dirname, 'salesforce-org.ts'), ...FIELDS, '--contacts', String(contacts)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(readline.createInterface({ input: child.stdout! }), 'line')) as [string];
  const started = JSON.parse(line) as {
    url: string;
    ids: string[];
    client: { clientId: string; clientSecret: string };
  };
  const control = async (method: string, route: string, body?: object) => {
    const answer = await fetch(`${started.url}/_sandbox/${route}`, {
      method,
      ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    if (!answer.ok) throw new Error(`the bench's org answered ${answer.status} to ${method} ${route}`);
    return answer.json() as Promise<{ calls: { method: string; path: string }[] }>;
  };
  return {
    ...started,
    setLatency: (latencyMs: number) => control('PUT', 'faults', { latencyMs }),
    clearCalls: () => control('DELETE', 'calls'),
    calls: async () => (await control('GET', 'calls')).calls,
    async stop() {
      child.stdin!.end();
      await once(child, 'exit');
    },
  };
}

export async function benchSalesforce(only?: string): Promise<BenchTable[]> {
  const rows: Record<string, string | number>[] = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only))
    if (!(await measureRuns(kind, rows)))
      console.log(`${kind}: skipped (no Postgres reachable; set BENCH_DATABASE_URL)`);
  return [
    {
      title: `Against the local Salesforce at ${LATENCY_MS} ms per answer (goal: calls at most the floor + 1 per 2,000 records, wall time ≤ 1.10 × the floor's, the floor's calls one after another):`,
      rows,
    },
  ];
}

if (import.meta.main) printTables(await benchSalesforce(databaseArgument()));
