/**
 * Issue 5: deciding a batch of 1,000 approvals on 1,000 contacts, against the fake HubSpot over
 * real HTTP with 100 ms latency and a limit of 100 calls per 10 s, on PGlite and (when
 * reachable) Postgres. Measures from the batch decision until HubSpot shows everything: values
 * written, shadows cleared, approval objects updated. Prints HubSpot calls against the floor
 * (batch writes of 100 for the properties, for shadow clearing and for approval objects) and
 * wall time against the floor those calls set.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hubspotResolver } from '../server/src/runtime.ts';
import { createFakeHubSpotHttpServer } from '../server/src/sandbox/hubspot/http-server.ts';
import { createHubSpotState, seedRecord } from '../server/src/sandbox/hubspot/state.ts';
import { checkV3Signature } from '../server/src/crm/hubspot/webhook-signature.ts';
import { createSecretBox } from '../server/src/secrets.ts';
import {
  createAgent,
  bootstrapWorkspace,
  setPersonRole,
  publishPolicy,
  createWorkspace,
  requireWorkspace,
} from '../server/src/services/governance/index.ts';
import { syncApprovalMirror } from '../server/src/services/held/index.ts';
import { type Actor, outboundTo, type ServiceDeps } from '../server/src/services/common/index.ts';
import { decideBatch, submitChangeSet } from '../server/src/services/change-sets/index.ts';
import { openDatabase } from '../server/src/store/database.ts';
import { approvals } from '../server/src/store/schema.ts';
import { findAgent } from '../server/src/store/agent-store.ts';
import { createBenchPostgres } from './databases.ts';
import { type BenchTable, databaseArgument, printTables } from './report.ts';

const APPROVALS = 1_000;
const LATENCY_MS = 100;
const CALLS_PER_10S = 100;
const ADMIN: Actor = { type: 'admin', via: 'cli', name: 'bench' };
const POLICY = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, '../examples/policy.json'), 'utf8'),
) as unknown;
const ROUTES = {
  read: 'POST /crm/v3/objects/{type}/batch/read',
  update: 'POST /crm/v3/objects/{type}/batch/update',
  upsert: 'POST /crm/v3/objects/{customType}/batch/upsert',
  associate: 'POST /crm/v4/associations/{from}/{to}/batch/associate/default',
};

async function measure(kind: 'pglite' | 'postgres') {
  const postgres = kind === 'postgres' ? await createBenchPostgres() : undefined;
  if (kind === 'postgres' && !postgres) return undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-approvals-'));
  const database = await openDatabase({ databaseUrl: postgres?.url, dataDir, holder: 'approvals bench' });
  await database.migrate();
  const hubspot = createHubSpotState();
  const fake = createFakeHubSpotHttpServer(hubspot);
  const secrets = createSecretBox(randomBytes(32));
  const deps: ServiceDeps = {
    db: database.db,
    clock: () => new Date(),
    secrets,
    crmFor: hubspotResolver({
      baseUrl: await fake.listen(),
      callsPer10s: CALLS_PER_10S,
      open: (sealed) => secrets.open(sealed),
      adapter: {},
    }),
    checkSignedRequest: checkV3Signature,
    outbound: outboundTo([]),
  };
  try {
    const created = await createWorkspace(
      deps,
      { name: 'Bench', hubspotPortalId: '1', hubspotToken: hubspot.accessToken },
      ADMIN,
    );
    await publishPolicy(deps, created.id, POLICY, ADMIN);
    await bootstrapWorkspace(deps, created.id, ADMIN);
    await setPersonRole(deps, created.id, { crmUserId: '501', role: 'approver' }, ADMIN);
    const agentId = (await createAgent(deps, created.id, { name: 'bench-enricher', role: 'enrichment' }, ADMIN)).id;
    const workspace = await requireWorkspace(deps, created.id);
    const agent = (await findAgent(deps.db, workspace.id, agentId))!;
    const recordIds = Array.from({ length: APPROVALS }, (_, i) =>
      seedRecord(hubspot, 'contacts', { properties: { email: `b${i}@example.com`, hubspot_owner_id: '1001' } }),
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
    while ((await syncApprovalMirror(deps)).written > 0); // shadows and approval objects exist before the decision
    const ids = (await deps.db.select({ id: approvals.id }).from(approvals)).map((row) => row.id);

    hubspot.faults.latencyMs = LATENCY_MS;
    hubspot.faults.setRateLimit({ maxCalls: CALLS_PER_10S, intervalMs: 10_000 });
    hubspot.calls.clear();
    const started = performance.now();
    const decided = await decideBatch(deps, {
      workspace,
      request: { kind: 'approve', actingUserId: '501', approvalIds: ids },
      via: 'admin_api',
    });
    const decidedAt = performance.now();
    while ((await syncApprovalMirror(deps)).written > 0);
    const seconds = (performance.now() - started) / 1000;
    if (decided.summary.applied !== APPROVALS)
      throw new Error(`only ${decided.summary.applied} of ${APPROVALS} applied`);

    const calls = Object.fromEntries(
      Object.entries(ROUTES).map(([name, route]) => [name, hubspot.calls.count({ route })]),
    );
    const floorCalls = (3 * APPROVALS) / 100;
    const totalCalls = hubspot.calls.count();
    const floorSeconds = Math.max((floorCalls * LATENCY_MS) / 1000, Math.floor((floorCalls - 1) / CALLS_PER_10S) * 10);
    return { calls, totalCalls, floorCalls, seconds, decideSeconds: (decidedAt - started) / 1000, floorSeconds };
  } finally {
    await fake.close();
    await database.close();
    await postgres?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchApprovals(only?: string): Promise<BenchTable[]> {
  const rows = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
    const result = await measure(kind);
    if (!result) {
      console.log(`${kind}: skipped (no Postgres reachable)`);
      continue;
    }
    rows.push({
      database: kind,
      'HubSpot calls': `${result.totalCalls} (read ${result.calls.read}, update ${result.calls.update}, upsert ${result.calls.upsert}, associate ${result.calls.associate}); floor ${result.floorCalls} writes`,
      'decide+apply s': result.decideSeconds.toFixed(2),
      'until mirrored s': result.seconds.toFixed(2),
      'floor s': result.floorSeconds.toFixed(2),
      'ratio to floor': (result.seconds / result.floorSeconds).toFixed(3),
    });
  }
  return [
    {
      title: `Deciding ${APPROVALS} approvals on ${APPROVALS} contacts at ${LATENCY_MS} ms latency, ${CALLS_PER_10S} calls/10 s (floor: writes of 100 for values, shadows, approval objects):`,
      rows,
    },
  ];
}

if (import.meta.main) printTables(await benchApprovals(databaseArgument()));
