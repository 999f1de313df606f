/**
 * Issue 8: backend time of the HubSpot app's two heaviest reads, through the real app with
 * HubSpot's signature verified, on PGlite and (when reachable) Postgres:
 * the record card for a record with 50 pending approvals among 2,000 audit events (goal: p95
 * under 50 ms), and the settings page with a policy of 500 properties × 5 agent roles.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Signature } from '@hubspot/api-client';
import { AGENT_ROLES } from '../shared/crm-names.ts';
import { TIERS } from '../shared/policy.ts';
import { createApp } from '../server/src/app.ts';
import { silentLogger } from '../server/src/logger.ts';
import { checkV3Signature } from '../server/src/crm/hubspot/webhook-signature.ts';
import { createSecretBox } from '../server/src/secrets.ts';
import { createAgent, setPersonRole, publishPolicy, createWorkspace } from '../server/src/services/governance/index.ts';
import { type Actor, outboundTo, type ServiceDeps } from '../server/src/services/common/index.ts';
import { insertApprovals } from '../server/src/store/approval-store.ts';
import { withAuditChain } from '../server/src/services/common/index.ts';
import { insertChangeRecords } from '../server/src/store/change-store.ts';
import { openDatabase } from '../server/src/store/database.ts';
import { changeSets } from '../server/src/store/schema.ts';
import { createBenchPostgres } from './databases.ts';
import { type BenchTable, databaseArgument, printTables } from './report.ts';

const PENDING = 50;
const AUDIT_EVENTS = 2_000;
const PROPERTIES = 500;
const REQUESTS = 200;
const SECRET = 'bench-app-secret';
const PORTAL = '4242';
const USER = '501';
const RECORD = '1001';
const ADMIN: Actor = { type: 'admin', via: 'cli', name: 'bench' };

function bigPolicy() {
  const roles = AGENT_ROLES.slice(0, 5);
  const properties = Object.fromEntries(
    Array.from({ length: PROPERTIES }, (_, i) => [
      `bench_property_${i}`,
      Object.fromEntries(roles.map((role, r) => [role, TIERS[(i + r) % TIERS.length]])),
    ]),
  );
  return { name: 'bench', timezone: 'UTC', objects: { contacts: { properties } } };
}

async function seed(deps: ServiceDeps) {
  const workspace = await createWorkspace(
    deps,
    { name: 'Bench', hubspotPortalId: PORTAL, hubspotToken: 'unused', hubspotClientSecret: SECRET },
    ADMIN,
  );
  await publishPolicy(deps, workspace.id, bigPolicy(), ADMIN);
  const agent = await createAgent(deps, workspace.id, { name: 'bench-enricher', role: 'enrichment' }, ADMIN);
  await setPersonRole(deps, workspace.id, { crmUserId: USER, role: 'approver' }, ADMIN);
  const now = new Date();
  await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const sets = Array.from({ length: PENDING }, (_, i) => ({
      id: randomUUID(),
      workspaceId: workspace.id,
      agentId: agent.id,
      batchId: `bench-${i % 5}`,
      objectType: 'contacts',
      policyVersion: 1,
      status: 'completed' as const,
    }));
    await tx.insert(changeSets).values(sets);
    await insertChangeRecords(
      tx,
      sets.map((set) => ({
        workspaceId: workspace.id,
        changeSetId: set.id,
        recordId: RECORD,
        evidence: { source: 'bench', url: 'https://example.com/p', confidence: 0.7, reason: 'bench' },
      })),
    );
    const approvals = sets.map((set, i) => ({
      id: randomUUID(),
      workspaceId: workspace.id,
      changeSetId: set.id,
      agentId: agent.id,
      batchId: set.batchId,
      objectType: 'contacts',
      recordId: RECORD,
      policyVersion: 1,
      tier: 'approval' as const,
      status: 'pending' as const,
      expiresAt: new Date(now.getTime() + 86_400_000),
      recordOwnerId: USER,
      delegatedUserId: null,
      createdAt: new Date(now.getTime() - i * 1000),
    }));
    const items = approvals.flatMap((approval) =>
      ['phone', 'jobtitle'].map((property) => ({
        approvalId: approval.id,
        property,
        changeId: randomUUID(),
        beforeValue: 'before',
        proposedValue: 'after',
        status: 'pending' as const,
        approvedBy: [],
      })),
    );
    await insertApprovals(tx, approvals, items);
    for (let i = 0; i < AUDIT_EVENTS; i++) {
      audit.append({
        type: 'change.decided',
        actor: { type: 'system', name: 'bench' },
        agentId: agent.id,
        batchId: `bench-${i % 5}`,
        objectType: 'contacts',
        recordId: i % 4 === 0 ? RECORD : String(2000 + i),
        property: 'phone',
        after: { phone: String(i) },
      });
    }
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timeRequests(base: string, pathAndQuery: string) {
  const url = new URL(`${base}${pathAndQuery}`);
  for (const [key, value] of Object.entries({ userId: USER, userEmail: 'bench', appId: '1', portalId: PORTAL }))
    url.searchParams.set(key, value);
  const once = async () => {
    const timestamp = Date.now();
    const signature = Signature.getSignature('GET', 'v3', {
      clientSecret: SECRET,
      requestBody: '',
      url: url.toString(),
      timestamp,
      signature: '',
    });
    const started = performance.now();
    const response = await fetch(url, {
      headers: { 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': String(timestamp) },
    });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`${pathAndQuery} answered ${response.status}: ${body.slice(0, 300)}`);
    return { ms: performance.now() - started, bytes: body.length };
  };
  for (let i = 0; i < 20; i++) await once();
  const runs = [];
  for (let i = 0; i < REQUESTS; i++) runs.push(await once());
  const sorted = runs.map((run) => run.ms).sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    kb: Math.round(runs[0]!.bytes / 1024),
  };
}

async function measure(kind: 'pglite' | 'postgres') {
  const postgres = kind === 'postgres' ? await createBenchPostgres() : undefined;
  if (kind === 'postgres' && !postgres) return undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-extension-'));
  const database = await openDatabase({ databaseUrl: postgres?.url, dataDir, holder: 'bench-extension' });
  try {
    await database.migrate();
    const deps: ServiceDeps = {
      db: database.db,
      clock: () => new Date(),
      secrets: createSecretBox(randomBytes(32)),
      crmFor: () => {
        throw new Error('the app reads no CRM here');
      },
      checkSignedRequest: checkV3Signature,
      outbound: outboundTo([]),
    };
    await seed(deps);
    const app = createApp({
      deps,
      database,
      logger: silentLogger,
      maxBodyBytes: 2 * 1024 * 1024,
      publicUrl: 'http://127.0.0.1',
    });
    const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/extension`;
    try {
      return {
        card: await timeRequests(base, `/card?objectType=contacts&recordId=${RECORD}&pageSize=${PENDING}`),
        settings: await timeRequests(base, '/settings'),
      };
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  } finally {
    await database.close();
    await postgres?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchExtension(only: string | undefined): Promise<BenchTable[]> {
  const rows = [];
  for (const kind of (['pglite', 'postgres'] as const).filter((k) => !only || k === only)) {
    const result = await measure(kind);
    if (!result) {
      console.log(`${kind}: extension bench skipped (no Postgres reachable; set BENCH_DATABASE_URL)`);
      continue;
    }
    for (const [name, figures] of Object.entries(result)) {
      rows.push({
        database: kind,
        request: name,
        'p50 ms': figures.p50.toFixed(1),
        'p95 ms': figures.p95.toFixed(1),
        'p99 ms': figures.p99.toFixed(1),
        'response KB': figures.kb,
      });
    }
  }
  return [
    {
      title: `HubSpot app backend, signed requests in process (card: ${PENDING} pending approvals, all on one page, ${AUDIT_EVENTS} audit events; settings: ${PROPERTIES} properties × 5 roles); goal card p95 < 50 ms:`,
      rows,
    },
  ];
}

if (import.meta.main) printTables(await benchExtension(databaseArgument()));
