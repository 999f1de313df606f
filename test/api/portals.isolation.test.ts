import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { retryDueApplies } from '../../server/src/services/held/index.ts';
import {
  createHubSpotState,
  recordValues,
  seedRecord,
  type HubSpotState,
} from '../../server/src/sandbox/hubspot/state.ts';
import { approvals } from '../../server/src/store/schema.ts';
import { decide, givePeopleRoles, proposeHeld } from '../support/approvals.ts';
import { ADMIN, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

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

/** A workspace on `portal` with an approval the approver approved while HubSpot refused its write: due for the job. */
async function approvedButUnwritten(portal: HubSpotState) {
  const ws = await seedWorkspace(harness, ['enrichment'], portal.accessToken);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
  const recordId = seedRecord(portal, 'contacts', {
    properties: { email: 'ada@example.com', firstname: 'Ada', hubspot_owner_id: '1001' },
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
  return { recordId, approvalId };
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
});
