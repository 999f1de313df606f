/**
 * Issue 22: the overhead of `propose_crm_changes` over MCP (the SDK's own client, Streamable
 * HTTP, one connection as an agent framework holds it) against POST /v1/changesets for the same
 * change set, on the real server in its own process against a fake HubSpot over HTTP at no
 * latency, so the server's own work is all there is to compare. Calls alternate REST and MCP,
 * each on records seeded for it; the figure is the ratio of the medians. Goal: under 1.10.
 *
 * Last measured (issue 22, 2 shared cores at a load average of 9 to 11, so ±10% is noise): 10
 * contacts 1.08 on PGlite (106 → 115 ms), 1.07 on Postgres (118 → 126 ms); 1,000 contacts 0.97 on
 * both (PGlite 3.40 → 3.29 s, Postgres 1.76 → 1.70 s). Before the JSON went once per answer, 1,000
 * contacts on Postgres measured 1.22.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createFakeHubSpotHttpServer } from '../server/src/sandbox/hubspot/http-server.ts';
import { createHubSpotState, seedRecord } from '../server/src/sandbox/hubspot/state.ts';
import { changesFor } from './change-set.ts';
import { createBenchPostgres } from './databases.ts';
import { benchWorkspace, cli, startServer } from './server-process.ts';
import { type BenchTable, databaseArgument, printTables } from './report.ts';

const POLICY = path.resolve(import.meta.dirname, '../examples/policy.json');
/** A small change set, where the protocol's fixed cost shows most, and the change-set benchmark's size. */
const SIZES = [
  { records: 10, rounds: 30 },
  { records: 1_000, rounds: 5 },
];

async function measure(kind: 'pglite' | 'postgres') {
  const postgres = kind === 'postgres' ? await createBenchPostgres() : undefined;
  if (kind === 'postgres' && !postgres) return undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-mcp-'));
  const hubspot = createHubSpotState();
  const fake = createFakeHubSpotHttpServer(hubspot);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    HUBSPOT_API_BASE_URL: await fake.listen(),
    APPROVAL_JOBS: 'off',
    ...(postgres ? { DATABASE_URL: postgres.url, SECRETS_KEY: randomBytes(32).toString('base64') } : {}),
  };
  const { workspaceId, agentToken } = await benchWorkspace(env, hubspot.accessToken, 'b');
  // The example policy, without the agent's daily cap: the rounds write ~100,000 values, and a capped write is decided differently.
  const example = JSON.parse(fs.readFileSync(POLICY, 'utf8')) as { caps: Record<string, number> };
  const policyFile = path.join(dataDir, 'policy.json');
  fs.writeFileSync(
    policyFile,
    JSON.stringify({ ...example, caps: { ...example.caps, writesPerAgentPerDay: 10_000_000 } }),
  );
  await cli(env, 'policy', 'apply', '--workspace', workspaceId, policyFile, '--bootstrap');
  const server = await startServer(env);
  const token = agentToken;
  const client = new Client({ name: 'bench-agent', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );

  let batch = 0;
  const changeSet = (records: number) => {
    const ids = Array.from({ length: records }, (_, i) =>
      seedRecord(hubspot, 'contacts', { properties: { email: `m${batch}-${i}@example.com` } }),
    );
    return { batchId: `bench-${batch++}`, objectType: 'contacts', changes: changesFor(ids) };
  };
  const viaRest = async (records: number) => {
    const body = JSON.stringify(changeSet(records));
    const started = performance.now();
    const response = await fetch(`${server.url}/v1/changesets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    await response.json();
    if (response.status !== 201) throw new Error(`REST submission failed: ${response.status}`);
    return performance.now() - started;
  };
  const viaMcp = async (records: number) => {
    const args = changeSet(records);
    const started = performance.now();
    const result = await client.callTool({ name: 'propose_crm_changes', arguments: args });
    if (result.isError) throw new Error(`MCP submission refused: ${JSON.stringify(result.content).slice(0, 500)}`);
    return performance.now() - started;
  };

  try {
    const rows = [];
    for (const { records, rounds } of SIZES) {
      // Warm-up: JIT, the property cache, the connection pool, both code paths.
      await viaRest(records);
      await viaMcp(records);
      const rest: number[] = [];
      const mcp: number[] = [];
      for (let round = 0; round < rounds; round++) {
        rest.push(await viaRest(records));
        mcp.push(await viaMcp(records));
      }
      rows.push({ database: kind, records, rounds, restMs: median(rest), mcpMs: median(mcp) });
    }
    return rows;
  } finally {
    await client.close();
    await server.stop();
    await fake.close();
    await postgres?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export async function benchMcp(only?: string): Promise<BenchTable[]> {
  const rows = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
    const measured = await measure(kind);
    if (!measured) {
      console.log(`${kind}: skipped (no Postgres reachable; set BENCH_DATABASE_URL)`);
      continue;
    }
    for (const row of measured)
      rows.push({
        database: row.database,
        'change set': `${row.records} contacts × 10 properties`,
        rounds: row.rounds,
        'REST median ms': row.restMs.toFixed(1),
        'MCP median ms': row.mcpMs.toFixed(1),
        'MCP / REST (goal < 1.10)': (row.mcpMs / row.restMs).toFixed(3),
      });
  }
  return [
    {
      title: 'propose_crm_changes over MCP (Streamable HTTP, SDK client) against POST /v1/changesets, same change set:',
      rows,
    },
  ];
}

if (import.meta.main) printTables(await benchMcp(databaseArgument()));
