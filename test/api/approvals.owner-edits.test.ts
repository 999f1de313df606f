import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { bootstrapWorkspace, setKillSwitch } from '../../server/src/services/governance/index.ts';
import { retryDueApplies } from '../../server/src/services/held/index.ts';
import { approvalItems, approvals, changeRecords } from '../../server/src/store/schema.ts';
import { approvalEvents, decide, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

/**
 * A database owner marking an approval approved by editing its rows (issue 17): the apply job
 * writes only what the audit log shows a person approving, so the forged row changes nothing in
 * HubSpot and the approval ends `stale` saying why, while an approval a person decided is written.
 */
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let now: Date;

const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';

beforeEach(async () => {
  now = new Date('2026-11-23T15:00:00Z');
  harness = await startHarness({ clock: () => now });
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
});
afterEach(() => harness.close());

const held = (recordId: string, properties: Record<string, string>) =>
  proposeHeld(harness, { token: ws.agents[0]!.token, adminToken: ws.adminToken, recordId, properties });
const killSwitch = (engaged: boolean) =>
  setKillSwitch(harness.deps, ws.workspaceId, { scope: 'workspace', engaged, reason: 'checking' } as never, ADMIN);

/** What a database owner types in psql: the approval and the named items approved, its write due now. */
async function approveByHand(approvalId: string, properties: readonly string[]) {
  const db = harness.database.db;
  for (const property of properties)
    await db
      .update(approvalItems)
      .set({ status: 'approved', approvedBy: ['501'] })
      .where(and(eq(approvalItems.approvalId, approvalId), eq(approvalItems.property, property)));
  await db
    .update(approvals)
    .set({ status: 'approved', decidedAt: now, decidedBy: ['501'], nextApplyAt: now })
    .where(eq(approvals.id, approvalId));
}

const approval = async (approvalId: string) =>
  (await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId)))[0]!;

describe('an approval marked approved by hand in the database', () => {
  it('is not written to HubSpot and ends stale saying so, while one a person approved beside it is written', async () => {
    const forgedRecord = seedContact(harness, { phone: '+1 555 0100' });
    const decidedRecord = seedContact(harness, { phone: '+1 555 0200' });
    const forged = await held(forgedRecord, { phone: '+1 555 0666' });
    const decided = await held(decidedRecord, { phone: '+1 555 0299' });
    // Held by the switch, the person's approval waits for the same retry as the forged one.
    await killSwitch(true);
    expect((await decide(harness, ws.adminToken, decided, { kind: 'approve', actingUserId: '501' })).status).toBe(200);
    await killSwitch(false);
    now = new Date(now.getTime() + 60 * 60_000); // past the held write's retry time
    await approveByHand(forged, ['phone']);

    await retryDueApplies(harness.deps);

    expect(recordValues(harness.hubspot.state, 'contacts', forgedRecord)!.phone).toBe('+1 555 0100');
    expect(recordValues(harness.hubspot.state, 'contacts', decidedRecord)!.phone).toBe('+1 555 0299');
    expect(await approval(forged)).toMatchObject({
      status: 'stale',
      message: 'Not written: the audit log shows no person approving phone, so its row was changed outside this app.',
    });
    expect((await approval(decided)).status).toBe('applied');
    expect(await approvalEvents(harness, forgedRecord, 'approval.stale')).toHaveLength(1);
    expect(await retryDueApplies(harness.deps)).toBe(0); // settled for good, not retried
  });

  it('with only its status changed, is not reported applied: nothing in it is approved', async () => {
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await held(recordId, { phone: '+1 555 0666' });
    await approveByHand(approvalId, []);

    await retryDueApplies(harness.deps);

    expect(await approval(approvalId)).toMatchObject({
      status: 'stale',
      message: 'Not written: it is marked approved yet approves no property, so its row was changed outside this app.',
    });
    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(0);
  });

  it('with a property a person rejected flipped to approved, writes nothing of it', async () => {
    const recordId = seedContact(harness, { phone: '+1 555 0100', mobilephone: '+1 555 0101' });
    const approvalId = await held(recordId, { phone: '+1 555 0199', mobilephone: '+1 555 0666' });
    await killSwitch(true);
    await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501', properties: ['phone'] });
    const rejected = await decide(harness, ws.adminToken, approvalId, {
      kind: 'reject',
      actingUserId: '501',
      properties: ['mobilephone'],
      reason: 'not their mobile',
    });
    expect(rejected.body.status).toBe('approved');
    await killSwitch(false);
    await approveByHand(approvalId, ['mobilephone']);

    await retryDueApplies(harness.deps);

    expect(recordValues(harness.hubspot.state, 'contacts', recordId)).toMatchObject({
      phone: '+1 555 0100',
      mobilephone: '+1 555 0101',
    });
    expect(await approval(approvalId)).toMatchObject({
      status: 'stale',
      message:
        'Not written: the audit log shows no person approving mobilephone, so its row was changed outside this app.',
    });
  });
});

describe('an approval a person approved, moved to another record in the database', () => {
  it('is not written there, and does not stop the approvals written beside it', async () => {
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const otherRecord = seedContact(harness, { phone: '+1 555 0100' });
    const moved = await held(recordId, { phone: '+1 555 0199' });
    // Another approval on the first record, written in the same run.
    const beside = await held(recordId, { mobilephone: '+1 555 0101' });
    await killSwitch(true);
    for (const approvalId of [moved, beside])
      await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    await killSwitch(false);
    now = new Date(now.getTime() + 60 * 60_000);
    await harness.database.db.update(approvals).set({ recordId: otherRecord }).where(eq(approvals.id, moved));

    await retryDueApplies(harness.deps);

    expect(recordValues(harness.hubspot.state, 'contacts', otherRecord)!.phone).toBe('+1 555 0100');
    expect(await approval(moved)).toMatchObject({
      status: 'stale',
      message: 'Not written: the audit log shows no person approving phone, so its row was changed outside this app.',
    });
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.mobilephone).toBe('+1 555 0101');
    expect((await approval(beside)).status).toBe('applied');
  });
});

describe("an approval whose agent's evidence row was deleted in the database", () => {
  it('waits without stopping the approvals written beside it, and is written once the row is back', async () => {
    const brokenRecord = seedContact(harness, { phone: '+1 555 0100' });
    const otherRecord = seedContact(harness, { phone: '+1 555 0200' });
    const broken = await held(brokenRecord, { phone: '+1 555 0199' });
    const beside = await held(otherRecord, { phone: '+1 555 0299' });
    await killSwitch(true);
    for (const approvalId of [broken, beside])
      await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    await killSwitch(false);
    now = new Date(now.getTime() + 60 * 60_000);
    const db = harness.database.db;
    const { changeSetId } = await approval(broken);
    const where = and(eq(changeRecords.changeSetId, changeSetId), eq(changeRecords.recordId, brokenRecord));
    const [evidenceRow] = await db.select().from(changeRecords).where(where);
    await db.delete(changeRecords).where(where);

    await retryDueApplies(harness.deps);

    expect(recordValues(harness.hubspot.state, 'contacts', otherRecord)!.phone).toBe('+1 555 0299');
    expect((await approval(beside)).status).toBe('applied');
    expect(recordValues(harness.hubspot.state, 'contacts', brokenRecord)!.phone).toBe('+1 555 0100');
    expect(await approval(broken)).toMatchObject({
      status: 'approved',
      message: expect.stringMatching(
        new RegExp(`^Not written yet: the evidence the agent gave for record ${brokenRecord} .* is missing or damaged`),
      ),
    });

    await db.insert(changeRecords).values(evidenceRow!);
    now = new Date(now.getTime() + 24 * 60 * 60_000);
    await retryDueApplies(harness.deps);
    expect(recordValues(harness.hubspot.state, 'contacts', brokenRecord)!.phone).toBe('+1 555 0199');
    expect((await approval(broken)).status).toBe('applied');
  });
});
