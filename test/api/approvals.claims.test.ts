import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { bootstrapWorkspace, setKillSwitch } from '../../server/src/services/governance/index.ts';
import { retryDueApplies } from '../../server/src/services/held/index.ts';
import { approvals } from '../../server/src/store/schema.ts';
import { decide, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

/**
 * A writer's claim on an approved write (the apply queue's lease): another writer, here the retry
 * job of a second server on the same database, takes it only once it has lapsed, and a writer
 * whose claim was taken writes nothing.
 */
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let now: Date;
/** Both writers' deps: a claim lapses after one second. */
let deps: ServiceDeps;

const CLAIM_MS = 1_000;
const READ = 'POST /crm/v3/objects/{type}/batch/read';
const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';

beforeEach(async () => {
  now = new Date('2026-11-23T15:00:00Z');
  harness = await startHarness({ clock: () => now });
  deps = { ...harness.deps, approvalApplyClaimMs: CLAIM_MS };
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
});
afterEach(() => harness.close());

/** An approved phone number not yet written (a switch stopped it), due for the retry job. */
async function approvedNotWritten(): Promise<{ recordId: string; approvalId: string }> {
  const recordId = seedContact(harness);
  const approvalId = await proposeHeld(harness, {
    token: ws.agents[0]!.token,
    adminToken: ws.adminToken,
    recordId,
    properties: { phone: '+1 555 0199' },
  });
  const change = (engaged: boolean) =>
    setKillSwitch(harness.deps, ws.workspaceId, { scope: 'workspace', engaged, reason: 'checking' } as never, ADMIN);
  await change(true);
  expect((await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' })).body.status).toBe(
    'approved',
  );
  await change(false);
  now = new Date(now.getTime() + 60 * 60_000);
  return { recordId, approvalId };
}

const status = async (approvalId: string) =>
  (await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId)))[0]!.status;
const waitRealTime = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the claim on an approved write', () => {
  it('is kept by a live writer waiting on the CRM past the claim’s life: a second server’s retry job takes nothing, and the value is written once', async () => {
    const { recordId, approvalId } = await approvedNotWritten();
    const read = harness.hubspot.faults.hold(READ);
    const first = retryDueApplies(deps);
    await read.arrived;
    // Ten claim lives pass while the first writer waits on HubSpot; it renews its claim meanwhile.
    now = new Date(now.getTime() + 10 * CLAIM_MS);
    await waitRealTime(CLAIM_MS);
    expect(await retryDueApplies(deps)).toBe(0);
    read.release();
    await first;
    expect(await status(approvalId)).toBe('applied');
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).toBe('+1 555 0199');
    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(1);
  });

  it('taken by another writer while the first waited, is not written or settled by the first', async () => {
    const { recordId, approvalId } = await approvedNotWritten();
    const read = harness.hubspot.faults.hold(READ);
    const first = retryDueApplies(deps);
    await read.arrived;
    // Another writer found the claim lapsed and took it (its own time in applying_since).
    const takenAt = new Date(now.getTime() + 1);
    await harness.database.db.update(approvals).set({ applyingSince: takenAt }).where(eq(approvals.id, approvalId));
    read.release();
    await first;
    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(0);
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).toBeUndefined();
    const row = (await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId)))[0]!;
    expect(row).toMatchObject({ status: 'approved', applyingSince: takenAt });
  });
});
