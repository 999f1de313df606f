import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit, bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { editAsPerson, recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { approvalItems, approvals } from '../../server/src/store/schema.ts';
import { approvalEvents, decide, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let token: string;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment', 'routing']);
  token = ws.agents[0]!.token;
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '502': 'revops_admin', '1001': 'rep' });
});
afterEach(() => harness.close());

const propose = (recordId: string, properties: Record<string, string>) =>
  proposeHeld(harness, { token, adminToken: ws.adminToken, recordId, properties });

describe('held writes become approvals', () => {
  it('stores one pending approval per record with an item per held property, the owner and the expiry, and audits it', async () => {
    const id = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await propose(id, { phone: '+1 555 0199', mobilephone: '+1 555 0111', jobtitle: 'CTO' });

    const [stored] = await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId));
    expect(stored).toMatchObject({
      recordId: id,
      status: 'pending',
      tier: 'approval',
      recordOwnerId: '1001',
      delegatedUserId: null,
      batchId: 'enrich-1',
      agentId: ws.agents[0]!.id,
    });
    expect(stored!.expiresAt.getTime() - stored!.createdAt.getTime()).toBe(72 * 3_600_000);
    const items = await harness.database.db
      .select()
      .from(approvalItems)
      .where(eq(approvalItems.approvalId, approvalId));
    expect(items.map((item) => [item.property, item.beforeValue, item.proposedValue, item.status]).sort()).toEqual([
      ['mobilephone', null, '+1 555 0111', 'pending'],
      ['phone', '+1 555 0100', '+1 555 0199', 'pending'],
    ]);
    const created = await approvalEvents(harness, id, 'approval.created');
    expect(created).toEqual([
      expect.objectContaining({
        before: { phone: '+1 555 0100', mobilephone: null },
        after: { phone: '+1 555 0199', mobilephone: '+1 555 0111' },
      }),
    ]);
    expect(created[0]!.data).toMatchObject({ approvalId, tier: 'approval', recordOwnerId: '1001' });
  });

  it('lists approvals by record, batch, agent and status, each with its items, and reads one', async () => {
    const first = await propose(seedContact(harness), { phone: '+1 555 0001' });
    const otherRecord = seedContact(harness);
    await propose(otherRecord, { phone: '+1 555 0002' });
    const byRecord = await api(harness, 'GET', `/v1/admin/approvals?record=${otherRecord}`, { token: ws.adminToken });
    expect(byRecord.body.approvals).toHaveLength(1);
    expect(byRecord.body.approvals[0].items).toEqual([
      expect.objectContaining({ property: 'phone', proposed: '+1 555 0002', status: 'pending', approvedBy: [] }),
    ]);
    const byBatch = await api(
      harness,
      'GET',
      `/v1/admin/approvals?batch=enrich-1&agent=${ws.agents[0]!.id}&status=pending`,
      { token: ws.adminToken },
    );
    expect(byBatch.body.approvals).toHaveLength(2);
    expect(
      (await api(harness, 'GET', '/v1/admin/approvals?status=applied', { token: ws.adminToken })).body.approvals,
    ).toEqual([]);
    const one = await api(harness, 'GET', `/v1/admin/approvals/${first}`, { token: ws.adminToken });
    expect(one).toMatchObject({
      status: 200,
      body: { id: first, status: 'pending', tier: 'approval', items: [expect.objectContaining({ property: 'phone' })] },
    });
  });
});

describe('POST /v1/admin/approvals/:id/decisions', () => {
  it('writes an approved value to HubSpot with provenance, marks the approval applied, and audits the decision and the write', async () => {
    const id = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await propose(id, { phone: '+1 555 0199' });
    const res = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'applied',
      decidedAt: expect.any(String),
      items: [{ property: 'phone', status: 'approved', approvedBy: ['501'] }],
    });
    expect(recordValues(harness.hubspot.state, 'contacts', id)).toMatchObject({
      phone: '+1 555 0199',
      ag_last_changed_properties: 'phone',
      ag_last_source: 'clearbit',
      ag_last_agent: 'enrichment-agent',
    });

    const [decided] = await approvalEvents(harness, id, 'approval.decided');
    expect(decided).toMatchObject({
      actor: { type: 'person', crmUserId: '501', role: 'approver' },
      before: { phone: '+1 555 0100' },
      after: { phone: '+1 555 0199' },
      data: { approvalId, kind: 'approve', status: 'approved' },
    });
    const [applied] = await approvalEvents(harness, id, 'approval.applied');
    expect(applied).toMatchObject({ after: { phone: '+1 555 0199' }, data: { approvalId, status: 'applied' } });
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it('writes the value a person edited instead of the agent’s, keeping both in the stored item and the audit', async () => {
    const id = seedContact(harness);
    const approvalId = await propose(id, { phone: '+1 555 0199' });
    const res = await decide(harness, ws.adminToken, approvalId, {
      kind: 'approve',
      actingUserId: '501',
      edits: { phone: '+1 555 0142' },
    });
    expect(res.body).toMatchObject({
      status: 'applied',
      items: [{ property: 'phone', proposed: '+1 555 0199', edited: '+1 555 0142' }],
    });
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBe('+1 555 0142');
    const [decided] = await approvalEvents(harness, id, 'approval.decided');
    expect(decided!.data).toMatchObject({ edits: { phone: { proposed: '+1 555 0199', edited: '+1 555 0142' } } });
  });

  it('rejects without touching the record, keeping the reason', async () => {
    const id = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await propose(id, { phone: '+1 555 0199' });
    harness.hubspot.calls.clear();
    const res = await decide(harness, ws.adminToken, approvalId, {
      kind: 'reject',
      actingUserId: '1001',
      reason: 'Number is the switchboard',
    });
    expect(res.body).toMatchObject({
      status: 'rejected',
      message: 'Number is the switchboard',
      items: [{ status: 'rejected' }],
    });
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBe('+1 555 0100');
    expect(harness.hubspot.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/update' })).toBe(0);
    expect(await approvalEvents(harness, id, 'approval.decided')).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ kind: 'reject', reason: 'Number is the switchboard', status: 'rejected' }),
      }),
    ]);
  });

  it('decides per property: the approved one is written, the rejected one is not', async () => {
    const id = seedContact(harness);
    const approvalId = await propose(id, { phone: '+1 555 0199', mobilephone: '+1 555 0111' });
    const rejected = await decide(harness, ws.adminToken, approvalId, {
      kind: 'reject',
      actingUserId: '501',
      properties: ['mobilephone'],
      reason: 'Personal number',
    });
    expect(rejected.body.status).toBe('pending');
    const approved = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(approved.body.status).toBe('applied');
    const values = recordValues(harness.hubspot.state, 'contacts', id)!;
    expect(values.phone).toBe('+1 555 0199');
    expect(values.mobilephone).toBeUndefined();
  });

  it('marks the approval stale and overwrites nothing when a person changed the property after the agent proposed', async () => {
    const id = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await propose(id, { phone: '+1 555 0199' });
    editAsPerson(harness.hubspot.state, {
      objectType: 'contacts',
      recordId: id,
      properties: { phone: '+1 555 0777' },
      userId: 9001,
    });
    const res = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(res.body).toMatchObject({ status: 'stale', message: expect.stringContaining('phone') });
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBe('+1 555 0777');
    expect(await approvalEvents(harness, id, 'approval.stale')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ approvalId, current: { phone: '+1 555 0777' } }) }),
    ]);
  });

  it('needs two different people for a two-person approval, and writes only after the second', async () => {
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
    const first = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(first.body).toMatchObject({
      tier: 'two_person',
      status: 'pending',
      items: [{ approvedBy: ['501'], status: 'pending' }],
    });
    expect(recordValues(harness.hubspot.state, 'deals', dealId)!.amount).toBe('1000');
    const again = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(again).toMatchObject({
      status: 403,
      body: { error: { code: 'APPROVAL_DECISION_FORBIDDEN', details: { refusal: 'already_approved_by_this_person' } } },
    });
    const second = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '502' });
    expect(second.body).toMatchObject({
      status: 'applied',
      items: [{ approvedBy: ['501', '502'], status: 'approved' }],
    });
    expect(recordValues(harness.hubspot.state, 'deals', dealId)!.amount).toBe('1500');
  });
});
