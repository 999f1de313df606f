import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncApprovalMirror, sweepExpiredApprovals, retryDueApplies } from '../../server/src/services/held/index.ts';
import { verifyAudit, bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { associationsOf, customStore } from '../../server/src/sandbox/hubspot/custom-objects.ts';
import { editAsPerson, recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { approvals } from '../../server/src/store/schema.ts';
import { approvalEvents, decide, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let now: Date;

beforeEach(async () => {
  now = new Date();
  harness = await startHarness({ clock: () => now });
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
});
afterEach(() => harness.close());

const propose = (recordId: string, properties: Record<string, string>) =>
  proposeHeld(harness, { token: ws.agents[0]!.token, adminToken: ws.adminToken, recordId, properties });

/** The approval object in the fake HubSpot for one of our approvals, with what it is associated with. */
function approvalObject(approvalId: string): Record<string, string | string[]> | undefined {
  const store = customStore(harness.hubspot.state, 'agent_approval');
  const record = [...(store?.records.values() ?? [])].find(
    (candidate) => candidate.properties['ag_approval_id'] === approvalId,
  );
  return (
    record && { ...record.properties, associations: associationsOf(harness.hubspot.state, 'agent_approval', record.id) }
  );
}

const shadows = (recordId: string) => {
  const values = recordValues(harness.hubspot.state, 'contacts', recordId) ?? {};
  return {
    phone: values['ag_proposed_phone'] ?? '',
    mobilephone: values['ag_proposed_mobilephone'] ?? '',
    pending: values['ag_pending_approvals'],
  };
};

describe('bootstrap for approvals', () => {
  it('creates a shadow property for each property the policy can hold, the pending count and the approval object, once', async () => {
    const contacts = harness.hubspot.state.objects.contacts.properties;
    expect(contacts.get('ag_proposed_phone')).toMatchObject({
      label: 'Proposed: Phone Number',
      groupName: 'agent_governance',
      type: 'string',
    });
    expect(contacts.get('ag_proposed_jobtitle')).toBeDefined(); // auto in the policy, but a condition can raise it
    expect(contacts.get('ag_pending_approvals')).toMatchObject({ type: 'number' });
    expect(contacts.get('ag_do_not_contact')).toMatchObject({ type: 'bool', fieldType: 'booleancheckbox' });
    expect(harness.hubspot.state.objects.deals.properties.get('ag_do_not_contact')).toBeUndefined();
    const schemas = [...harness.hubspot.state.custom.objects.values()].map((store) => store.schema);
    expect(schemas).toEqual([
      expect.objectContaining({ name: 'agent_approval', associatedObjects: ['CONTACT', 'DEAL'] }),
    ]);
    const again = await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
    expect(again.approvalObject).toEqual({ objectTypeId: schemas[0]!.objectTypeId, created: false });
    expect(again.objects.every((object) => object.created.length === 0)).toBe(true);
    expect(harness.hubspot.state.custom.objects.size).toBe(1);
  });
});

describe('the approval mirror in HubSpot', () => {
  it('shows a held value beside the real one and an associated approval object; approval writes, clears and updates them', async () => {
    const id = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await propose(id, { phone: '+1 555 0199', mobilephone: '+1 555 0111' });
    expect(await syncApprovalMirror(harness.deps)).toEqual({ written: 1, failed: [] });

    expect(shadows(id)).toEqual({ phone: '+1 555 0199', mobilephone: '+1 555 0111', pending: '1' });
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBe('+1 555 0100');
    const pending = approvalObject(approvalId);
    expect(pending).toMatchObject({
      ag_status: 'pending',
      ag_agent: 'enrichment-agent',
      ag_record: `contacts/${id}`,
      ag_confidence: '0.92',
      ag_evidence_url: 'https://example.com/p/1',
      ag_decided_by: '',
    });
    expect(pending!.ag_diff).toContain('phone: "+1 555 0100" → "+1 555 0199" (pending)');
    expect(pending!.associations).toEqual([`0-1:${id}`]);

    const decided = await decide(harness, ws.adminToken, approvalId, {
      kind: 'approve',
      actingUserId: '501',
      edits: { mobilephone: '+1 555 0142' },
    });
    expect(decided.body.status).toBe('applied');
    await syncApprovalMirror(harness.deps);
    expect(recordValues(harness.hubspot.state, 'contacts', id)).toMatchObject({
      phone: '+1 555 0199',
      mobilephone: '+1 555 0142',
    });
    expect(shadows(id)).toEqual({ phone: '', mobilephone: '', pending: '0' });
    const applied = approvalObject(approvalId);
    expect(applied).toMatchObject({ ag_status: 'applied', ag_decided_by: '501', ag_decided_at: now.toISOString() });
    expect(applied!.ag_diff).toContain('edited to "+1 555 0142" (approved)');
    expect(applied!.associations).toEqual([`0-1:${id}`]);
    expect(customStore(harness.hubspot.state, 'agent_approval')!.records.size).toBe(1);
    expect(await syncApprovalMirror(harness.deps)).toEqual({ written: 0, failed: [] });
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it('clears the shadow on rejection, expiry and staleness, keeping another pending approval’s value on the same record', async () => {
    const rejected = seedContact(harness);
    const rejectedId = await propose(rejected, { phone: '+1 555 0001' });
    const expiring = seedContact(harness);
    const expiringId = await propose(expiring, { phone: '+1 555 0002' });
    const stale = seedContact(harness, { phone: '+1 555 0100' });
    const staleId = await propose(stale, { phone: '+1 555 0003' });
    now = new Date(now.getTime() + 60_000);
    await propose(stale, { mobilephone: '+1 555 0004' });
    await syncApprovalMirror(harness.deps);
    expect(shadows(stale)).toEqual({ phone: '+1 555 0003', mobilephone: '+1 555 0004', pending: '2' });

    await decide(harness, ws.adminToken, rejectedId, { kind: 'reject', actingUserId: '501', reason: 'Wrong number' });
    editAsPerson(harness.hubspot.state, {
      objectType: 'contacts',
      recordId: stale,
      properties: { phone: '+1 555 0777' },
      userId: 42,
    });
    expect((await decide(harness, ws.adminToken, staleId, { kind: 'approve', actingUserId: '501' })).body.status).toBe(
      'stale',
    );
    await sweepExpiredApprovals(harness.deps, new Date(now.getTime() + 73 * 3_600_000));
    await syncApprovalMirror(harness.deps);

    expect(shadows(rejected)).toMatchObject({ phone: '', pending: '0' });
    expect(approvalObject(rejectedId)).toMatchObject({
      ag_status: 'rejected',
      ag_outcome: 'Wrong number',
      ag_decided_by: '501',
    });
    expect(shadows(expiring)).toMatchObject({ phone: '', pending: '0' });
    expect(approvalObject(expiringId)).toMatchObject({ ag_status: 'expired' });
    expect(recordValues(harness.hubspot.state, 'contacts', stale)!.phone).toBe('+1 555 0777');
    expect(approvalObject(staleId)).toMatchObject({ ag_status: 'stale' });
    // The sweep also expired the second approval on that record (it was as old): nothing is left pending.
    expect(shadows(stale)).toEqual({ phone: '', mobilephone: '', pending: '0' });
  });

  it('keeps an approval due when HubSpot fails the mirror write, and catches up after the pause', async () => {
    const id = seedContact(harness);
    const approvalId = await propose(id, { phone: '+1 555 0199' });
    // More failures than the adapter's five attempts: the round gives up.
    harness.hubspot.faults.failNext(5, { status: 503 }, 'POST /crm/v3/objects/{customType}/batch/upsert');
    const failed = await syncApprovalMirror(harness.deps);
    expect(failed.written).toBe(0);
    expect(failed.failed).toEqual([
      { workspaceId: ws.workspaceId, error: expect.objectContaining({ name: expect.any(String) }) },
    ]);
    expect(approvalObject(approvalId)).toBeUndefined();
    expect((await syncApprovalMirror(harness.deps)).written).toBe(0); // backing off
    now = new Date(now.getTime() + 31_000);
    expect((await syncApprovalMirror(harness.deps)).written).toBe(1);
    expect(approvalObject(approvalId)).toMatchObject({ ag_status: 'pending' });
  });
});

describe('approved but not yet written', () => {
  it('is retried by the job with backoff until HubSpot takes it, and written once', async () => {
    const id = seedContact(harness);
    const approvalId = await propose(id, { phone: '+1 555 0199' });
    harness.hubspot.faults.failNext(20, { status: 503 }, 'POST /crm/v3/objects/{type}/batch/update');
    expect(
      (await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' })).body.status,
    ).toBe('approved');
    harness.hubspot.faults.reset();
    const [failed] = await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId));
    expect(failed).toMatchObject({ status: 'approved', applyAttempts: 1, applyingSince: null });
    expect(failed!.nextApplyAt!.getTime()).toBe(now.getTime() + 30_000);

    expect(await retryDueApplies(harness.deps)).toBe(0); // not due yet
    now = new Date(now.getTime() + 30_000);
    expect(await retryDueApplies(harness.deps)).toBe(1);
    expect(await retryDueApplies(harness.deps)).toBe(0);
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBe('+1 555 0199');
    expect((await approvalEvents(harness, id, 'approval.applied')).length).toBe(1);
    expect(harness.hubspot.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/update', status: 200 })).toBe(1);
  });
});
