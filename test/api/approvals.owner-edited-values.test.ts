import { sql } from 'drizzle-orm';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editAsPerson, propertyHistory, recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { bootstrapWorkspace, setKillSwitch, setPersonRole } from '../../server/src/services/governance/index.ts';
import { retryDueApplies } from '../../server/src/services/held/index.ts';
import { approvals } from '../../server/src/store/schema.ts';
import { approvalEvents, decide, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

/**
 * A database owner editing an approved item's value (issue 5): the apply job writes only the
 * values the audit log shows approved (the agent's proposal as held, or a person's recorded edit),
 * so an edited row writes nothing and ends `stale` saying why, while approvals left alone are
 * written as decided; and a value whose personal data was erased from the log is not written either.
 */
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let now: Date;

const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';

beforeEach(async () => {
  now = new Date('2026-11-23T15:00:00Z');
  harness = await startHarness({ clock: () => now });
  ws = await seedWorkspace(harness, ['enrichment', 'routing']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '502': 'revops_admin' });
  // A rep deciding on the records seedContact gives them (owner 1001).
  await setPersonRole(harness.deps, ws.workspaceId, { crmUserId: '601', role: 'rep', crmOwnerId: '1001' }, ADMIN);
});
afterEach(() => harness.close());

const held = (recordId: string, properties: Record<string, string>) =>
  proposeHeld(harness, { token: ws.agents[0]!.token, adminToken: ws.adminToken, recordId, properties });
const killSwitch = (engaged: boolean) =>
  setKillSwitch(harness.deps, ws.workspaceId, { scope: 'workspace', engaged, reason: 'checking' } as never, ADMIN);

/** Approves while the kill switch holds the write, so the approval waits for the job's retry. */
async function approveHeldBack(approvalId: string, decision: Record<string, unknown> = {}) {
  await killSwitch(true);
  const res = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501', ...decision });
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('approved');
  await killSwitch(false);
}

/** What a database owner types in psql. */
const editItem = (approvalId: string, set: ReturnType<typeof sql>) =>
  harness.database.db.execute(
    sql`update approval_items set ${set} where approval_id = ${approvalId} and property = 'phone'`,
  );

/** The approval job's run once the held writes' retry time has passed. */
async function runApplyJob() {
  now = new Date(now.getTime() + 60 * 60_000);
  harness.hubspot.calls.clear();
  await retryDueApplies(harness.deps);
}

const approval = async (approvalId: string) =>
  (await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId)))[0]!;
const writtenPhones = (recordId: string) =>
  propertyHistory(harness.hubspot.state, 'contacts', recordId, 'phone').filter((entry) => entry.sourceType === 'API');
const staleMessage = async (recordId: string) =>
  (await approvalEvents(harness, recordId, 'approval.stale')).map(
    (event) => (event.data as { message: string }).message,
  );

const DIFFERS =
  'Not written: the value stored for phone differs from the one the audit log shows approved, so its row was changed outside this app.';

describe('an approved value edited in the database', () => {
  it('is not written when the proposal was changed, while an untouched approval and a rep’s edited one are', async () => {
    const editedRecord = seedContact(harness, { phone: '+1 555 0100' });
    const untouchedRecord = seedContact(harness, { phone: '+1 555 0200' });
    const repRecord = seedContact(harness, { phone: '+1 555 0300' });
    const edited = await held(editedRecord, { phone: '+1 555 0199' });
    const untouched = await held(untouchedRecord, { phone: '+1 555 0299' });
    const byRep = await held(repRecord, { phone: '+1 555 0399' });
    await approveHeldBack(edited);
    await approveHeldBack(untouched);
    await approveHeldBack(byRep, { actingUserId: '601', edits: { phone: '+1 555 0342' } });
    await editItem(edited, sql`proposed_value = '+1 555 0666'`);

    await runApplyJob();

    expect(writtenPhones(editedRecord)).toEqual([]);
    expect(recordValues(harness.hubspot.state, 'contacts', editedRecord)!.phone).toBe('+1 555 0100');
    expect(recordValues(harness.hubspot.state, 'contacts', untouchedRecord)!.phone).toBe('+1 555 0299');
    expect(recordValues(harness.hubspot.state, 'contacts', repRecord)!.phone).toBe('+1 555 0342');
    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(1); // the two approvals left alone, in one batch
    expect(await approval(edited)).toMatchObject({ status: 'stale', message: DIFFERS });
    expect(await staleMessage(editedRecord)).toEqual([DIFFERS]);
    expect((await approval(untouched)).status).toBe('applied');
    expect((await approval(byRep)).status).toBe('applied');
    expect(await retryDueApplies(harness.deps)).toBe(0); // settled for good, not retried
  });

  it('is not written when a person’s edited value was changed', async () => {
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await held(recordId, { phone: '+1 555 0199' });
    await approveHeldBack(approvalId, { edits: { phone: '+1 555 0142' } });
    await editItem(approvalId, sql`edited_value = '+1 555 0666'`);

    await runApplyJob();

    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(0);
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).toBe('+1 555 0100');
    expect(await approval(approvalId)).toMatchObject({ status: 'stale', message: DIFFERS });
  });

  it('is not written when an edit was made up where the person approved the agent’s value', async () => {
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await held(recordId, { phone: '+1 555 0199' });
    await approveHeldBack(approvalId);
    await editItem(approvalId, sql`edited = true, edited_value = '+1 555 0666'`);

    await runApplyJob();

    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(0);
    expect(await approval(approvalId)).toMatchObject({ status: 'stale', message: DIFFERS });
  });

  it('is not written over a person’s change in HubSpot when the value before was changed to match it', async () => {
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await held(recordId, { phone: '+1 555 0199' });
    await approveHeldBack(approvalId);
    editAsPerson(harness.hubspot.state, {
      objectType: 'contacts',
      recordId,
      properties: { phone: '+1 555 0777' },
      userId: 9001,
    });
    await editItem(approvalId, sql`before_value = '+1 555 0777'`);

    await runApplyJob();

    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(0);
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).toBe('+1 555 0777');
    expect(await approval(approvalId)).toMatchObject({
      status: 'stale',
      message:
        'Not written: the value before the proposal stored for phone differs from the one the audit log recorded, so its row was changed outside this app.',
    });
  });
});

describe('an approval no one edited outside this app', () => {
  it('with two approvers, is written with the first one’s edit, which the second kept', async () => {
    const dealId = seedRecord(harness.hubspot.state, 'deals', {
      properties: { dealname: 'Acme renewal', amount: '1000', hubspot_owner_id: '1002' },
    });
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[1]!.token,
      adminToken: ws.adminToken,
      recordId: dealId,
      objectType: 'deals',
      properties: { amount: '1500' },
    });
    const first = await decide(harness, ws.adminToken, approvalId, {
      kind: 'approve',
      actingUserId: '501',
      edits: { amount: 1400 },
    });
    expect(first.body).toMatchObject({ tier: 'two_person', status: 'pending' });
    await approveHeldBack(approvalId, { actingUserId: '502' });

    await runApplyJob();

    expect(recordValues(harness.hubspot.state, 'deals', dealId)!.amount).toBe('1400');
    expect((await approval(approvalId)).status).toBe('applied');
  });
});

describe('an approved value whose personal data was erased from the audit log', () => {
  it('is not written, the approval saying the approved value can no longer be read', async () => {
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await held(recordId, { phone: '+1 555 0199' });
    await approveHeldBack(approvalId);
    const erased = await api(harness, 'POST', '/v1/admin/erasures', {
      token: ws.adminToken,
      body: { objectType: 'contacts', recordId },
    });
    expect(erased.status).toBe(200);

    await runApplyJob();

    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(0);
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).toBe('+1 555 0100');
    expect(await approval(approvalId)).toMatchObject({
      status: 'stale',
      message:
        'Not written: the value approved for phone can no longer be read from the audit log (its personal values were erased or outlived their retention).',
    });
    expect(await approvalEvents(harness, recordId, 'approval.stale')).toHaveLength(1);
  });
});
