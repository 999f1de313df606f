import { and, count, eq, isNull } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bootstrapWorkspace, publishPolicy } from '../../server/src/services/governance/index.ts';
import { retryDueApplies } from '../../server/src/services/held/index.ts';
import { processWebhookEvents } from '../../server/src/services/webhooks/index.ts';
import {
  createHubSpotState,
  recordValues,
  seedRecord,
  type HubSpotState,
} from '../../server/src/sandbox/hubspot/state.ts';
import { findDueApplies } from '../../server/src/store/approval-apply-store.ts';
import { approvals, auditEvents, rollbacks, webhookEvents } from '../../server/src/store/schema.ts';
import { startApprovalJobs } from '../../server/src/jobs/approval-jobs.ts';
import { startRollbackWorker } from '../../server/src/jobs/rollback-worker.ts';
import { startWebhookWorker } from '../../server/src/jobs/webhook-worker.ts';
import { silentLogger } from '../../server/src/logger.ts';
import { decide, givePeopleRoles, proposeHeld } from '../support/approvals.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { submitTitles } from '../support/rollbacks.ts';
import { deliver, propertyChange, seedWebhookWorkspace, splitDeliveries } from '../support/webhooks.ts';

const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';

let now: Date;
let harness: Harness;
/** A second HubSpot account beside the harness's own (portal B): the one whose 429 storm must stay its own. */
let portalA: HubSpotState;
/** While set, the adapters' retry waits stay open until the test lets them go: no real time passes in the test. */
let holdWaits = false;
const heldWaits: (() => void)[] = [];

beforeEach(async () => {
  now = new Date();
  holdWaits = false;
  heldWaits.length = 0;
  portalA = createHubSpotState({ accessToken: 'pat-na1-portal-a', portalId: '71001', now: () => now.getTime() });
  harness = await startHarness({
    clock: () => now,
    otherPortals: [portalA],
    sleep: (ms) =>
      holdWaits ? new Promise((resolve) => heldWaits.push(() => resolve())) : new Promise((r) => setTimeout(r, ms)),
  });
});
afterEach(() => harness.close());

/** A workspace on `portal` whose approvals the approver approved while HubSpot refused their writes: due for the job. */
async function approvedButUnwritten(portal: HubSpotState, count = 1) {
  const ws = await seedWorkspace(harness, ['enrichment'], portal.accessToken);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
  const held = [];
  for (let i = 0; i < count; i += 1) {
    const recordId = seedRecord(portal, 'contacts', {
      properties: { email: `ada${i}@example.com`, firstname: 'Ada', hubspot_owner_id: '1001' },
    });
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId,
      properties: { phone: '+1 555 0199' },
    });
    portal.faults.failNext(20, { status: 503 }, UPDATE);
    const decision = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(decision.body.status).toBe('approved');
    portal.faults.reset();
    held.push({ recordId, approvalId });
  }
  return { workspaceId: ws.workspaceId, ...held[0]!, held };
}

const statusOf = async (approvalId: string) =>
  (await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId)))[0]!.status;

describe('many portals on one server', () => {
  it('one portal answering 429 for a minute does not hold up another portal’s approved writes; it is written after', async () => {
    // A's approval is due first, so a job working one workspace after another would wait on A before B.
    const a = await approvedButUnwritten(portalA);
    now = new Date(now.getTime() + 1_000);
    const b = await approvedButUnwritten(harness.hubspot.state);
    now = new Date(now.getTime() + 31_000);
    portalA.faults.refuseUntil(now.getTime() + 60_000, 10);
    holdWaits = true;

    const round = retryDueApplies(harness.deps);
    await vi.waitFor(async () => expect(await statusOf(b.approvalId)).toBe('applied'), { timeout: 20_000 });
    expect(recordValues(harness.hubspot.state, 'contacts', b.recordId)!.phone).toBe('+1 555 0199');
    // Meanwhile A is still refused and waiting as HubSpot told it to, its write not given up.
    expect(heldWaits.length).toBeGreaterThan(0);
    expect(await statusOf(a.approvalId)).toBe('approved');
    expect(portalA.calls.count({ status: 429 })).toBeGreaterThan(0);

    now = new Date(now.getTime() + 60_000); // the minute is over
    holdWaits = false;
    for (const release of heldWaits.splice(0)) release();
    expect(await round).toBe(2);
    expect(await statusOf(a.approvalId)).toBe('applied');
    expect(recordValues(portalA, 'contacts', a.recordId)!.phone).toBe('+1 555 0199');
  });

  it('takes due approved writes in turns across workspaces, so one workspace’s backlog does not fill a round', async () => {
    const a = await approvedButUnwritten(portalA, 3);
    now = new Date(now.getTime() + 1_000);
    const b = await approvedButUnwritten(harness.hubspot.state);
    now = new Date(now.getTime() + 31_000);
    const round = await findDueApplies(harness.database.db, now, new Date(now.getTime() - 300_000), 2);
    // Without turns the round would be two of A's three, all due before B's.
    expect(round.map((due) => due.workspaceId)).toEqual([a.workspaceId, b.workspaceId]);
    expect(a.held.map((held) => held.approvalId)).toContain(round[0]!.id);
    expect(round[1]!.id).toBe(b.approvalId);
  });

  it('one portal answering 429 while it reverts a bypass does not hold up another portal’s webhook processing', async () => {
    const a = await seedWebhookWorkspace(harness, 'secret-a', portalA.accessToken);
    const policy = { ...(EXAMPLE_POLICY as object), monitoring: { revertBypassWrites: true } };
    await publishPolicy(harness.deps, a.workspaceId, policy, ADMIN);
    const b = await seedWebhookWorkspace(harness, 'secret-b');
    await publishPolicy(harness.deps, b.workspaceId, EXAMPLE_POLICY, ADMIN);
    const recordId = seedRecord(portalA, 'contacts', { properties: { email: 'r@example.com', jobtitle: 'Engineer' } });
    const t = now.getTime();
    // A's events are the oldest, so a round working one workspace after another takes A first.
    await deliver(
      harness,
      [propertyChange(a.portalId, { objectId: Number(recordId), propertyValue: 'Engineer', occurredAt: t - 2_000 })],
      { clientSecret: a.clientSecret },
    );
    await deliver(
      harness,
      [
        propertyChange(a.portalId, {
          objectId: Number(recordId),
          propertyValue: 'Spam King',
          changeSource: 'INTEGRATION',
          sourceId: '555000',
          occurredAt: t - 1_000,
        }),
      ],
      { clientSecret: a.clientSecret },
    );
    await deliver(harness, [propertyChange(b.portalId, { occurredAt: t })], { clientSecret: b.clientSecret });
    portalA.faults.refuseUntil(now.getTime() + 60_000, 10);
    holdWaits = true;

    const round = processWebhookEvents(harness.deps);
    // A's revert waits out the 429s as HubSpot told it to, and while it waits B's events are processed. A's
    // property lists may be cached since its policy was published, so its first wait may come late: awaited.
    await vi.waitFor(() => expect(heldWaits.length).toBeGreaterThan(0), { timeout: 20_000 });
    await vi.waitFor(async () => expect(await pendingEvents(b.workspaceId)).toBe(0), { timeout: 20_000 });
    expect(await auditCount(a.workspaceId, 'crm.bypass_reverted')).toBe(0);

    now = new Date(now.getTime() + 60_000); // the minute is over
    holdWaits = false;
    for (const release of heldWaits.splice(0)) release();
    expect(await round).toBe(3);
    expect(await auditCount(a.workspaceId, 'crm.bypass_reverted')).toBe(1);
    expect(recordValues(portalA, 'contacts', recordId)!.jobtitle).toBe('Engineer');
  });
});

describe('many portals on one server, through the server’s jobs', () => {
  it('while one portal answers 429 for a minute, another portal’s change set, webhooks, approved write and rollback all complete', async () => {
    const start = now.getTime();
    const at = (ms: number) => {
      now = new Date(start + ms);
    };
    // The storm portal's work, all found before the other's: an approved write due, a bypass to revert, a rollback.
    const a = await approvedButUnwritten(portalA);
    const aHooks = await bypassToRevert(portalA);
    const aBatch = await appliedBatch(portalA, 'enrich-a');
    const aRollback = await startBatchRollback(aBatch, 'enrich-a');
    at(20_000);
    const b = await approvedButUnwritten(harness.hubspot.state); // due 30 s later than A's
    const bHooks = await seedWebhookWorkspace(harness, 'secret-b');
    await publishPolicy(harness.deps, bHooks.workspaceId, EXAMPLE_POLICY, ADMIN);
    at(31_000);
    portalA.faults.refuseUntil(now.getTime() + 60_000, 10);
    holdWaits = true;
    const jobs = [
      startApprovalJobs(harness.deps, { logger: silentLogger, pollMs: 10 }),
      startWebhookWorker(harness.deps, { logger: silentLogger, pollMs: 10 }),
      startRollbackWorker(harness.deps, { logger: silentLogger, pollMs: 10 }),
    ];
    try {
      // Each of A's jobs is waiting out HubSpot's 429s as it was told to.
      await vi.waitFor(
        async () => {
          expect(await pendingEvents(aHooks.workspaceId)).toBe(0);
          expect(heldWaits.length).toBeGreaterThanOrEqual(3);
        },
        { timeout: 20_000 },
      );

      // Then the other portal's work arrives, and all of it is done while A is still refused.
      at(51_000);
      await deliver(harness, [propertyChange(bHooks.portalId, { occurredAt: now.getTime() })], {
        clientSecret: bHooks.clientSecret,
      });
      const bBatch = await appliedBatch(harness.hubspot.state, 'enrich-b');
      expect(recordValues(harness.hubspot.state, 'contacts', bBatch.recordId)!.jobtitle).toBe('CTO');
      const bRollback = await startBatchRollback(bBatch, 'enrich-b');
      await vi.waitFor(
        async () => {
          expect(await statusOf(b.approvalId)).toBe('applied');
          expect(await pendingEvents(bHooks.workspaceId)).toBe(0);
          expect(await rollbackStatus(bRollback)).toBe('completed');
        },
        { timeout: 20_000 },
      );
      expect(recordValues(harness.hubspot.state, 'contacts', b.recordId)!.phone).toBe('+1 555 0199');
      expect(recordValues(harness.hubspot.state, 'contacts', bBatch.recordId)!.jobtitle).toBe('Engineer');
      expect(await statusOf(a.approvalId)).toBe('approved');
      expect(await rollbackStatus(aRollback)).toBe('running');
      expect(await auditCount(aHooks.workspaceId, 'crm.bypass_reverted')).toBe(0);

      at(111_000); // A's minute is over: its work goes through
      holdWaits = false;
      for (const release of heldWaits.splice(0)) release();
      await vi.waitFor(
        async () => {
          expect(await statusOf(a.approvalId)).toBe('applied');
          expect(await rollbackStatus(aRollback)).toBe('completed');
          expect(await auditCount(aHooks.workspaceId, 'crm.bypass_reverted')).toBe(1);
        },
        { timeout: 20_000 },
      );
      expect(recordValues(portalA, 'contacts', aBatch.recordId)!.jobtitle).toBe('Engineer');
    } finally {
      holdWaits = false;
      for (const release of heldWaits.splice(0)) release();
      await Promise.all(jobs.map((job) => job.stop()));
    }
  });
});

/** A workspace on `portal` whose revert of a bypass write is due, its events stored and not yet processed. */
async function bypassToRevert(portal: HubSpotState) {
  const ws = await seedWebhookWorkspace(harness, `secret-${portal.portalId}`, portal.accessToken);
  const policy = { ...(EXAMPLE_POLICY as object), monitoring: { revertBypassWrites: true } };
  await publishPolicy(harness.deps, ws.workspaceId, policy, ADMIN);
  const recordId = seedRecord(portal, 'contacts', { properties: { email: 'r@example.com', jobtitle: 'Engineer' } });
  const t = now.getTime();
  await deliver(
    harness,
    [
      propertyChange(ws.portalId, { objectId: Number(recordId), propertyValue: 'Engineer', occurredAt: t - 2_000 }),
      propertyChange(ws.portalId, {
        objectId: Number(recordId),
        propertyValue: 'Spam King',
        changeSource: 'INTEGRATION',
        sourceId: '555000',
        occurredAt: t - 1_000,
      }),
    ],
    { clientSecret: ws.clientSecret },
  );
  return ws;
}

/** A workspace on `portal` whose agent's change set, through the API, wrote a job title. */
async function appliedBatch(portal: HubSpotState, batchId: string) {
  const ws = await seedWorkspace(harness, ['enrichment'], portal.accessToken);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  const recordId = seedRecord(portal, 'contacts', { properties: { email: 'c@example.com', jobtitle: 'Engineer' } });
  await submitTitles(harness, ws.agents[0]!.token, batchId, { [recordId]: 'CTO' });
  return { ...ws, recordId };
}

async function startBatchRollback(ws: { adminToken: string }, batchId: string): Promise<string> {
  const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
    token: ws.adminToken,
    body: { selector: { batchId } },
  });
  expect(started.status).toBe(202);
  return (started.body as { id: string }).id;
}

const rollbackStatus = async (id: string) =>
  (await harness.database.db.select().from(rollbacks).where(eq(rollbacks.id, id)))[0]!.status;

async function pendingEvents(workspaceId: string) {
  await splitDeliveries(harness.deps.db);
  const [row] = await harness.deps.db
    .select({ n: count() })
    .from(webhookEvents)
    .where(and(eq(webhookEvents.workspaceId, workspaceId), isNull(webhookEvents.processedAt)));
  return row!.n;
}

async function auditCount(workspaceId: string, type: string) {
  const [row] = await harness.deps.db
    .select({ n: count() })
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, workspaceId), eq(auditEvents.type, type)));
  return row!.n;
}
