import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDelegation, bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { approvalEvents, decide, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '601': 'auditor', '1001': 'rep', '1002': 'rep' });
});
afterEach(() => harness.close());

const propose = (recordId: string, onBehalfOf?: string) =>
  proposeHeld(harness, {
    token: ws.agents[0]!.token,
    adminToken: ws.adminToken,
    recordId,
    properties: { phone: '+1 555 0199' },
    ...(onBehalfOf ? { onBehalfOf } : {}),
  });

describe('who may decide an approval', () => {
  it.each([
    ['an auditor', '601', 'role_cannot_decide'],
    ['a rep who does not own the record', '1002', 'not_record_owner'],
    ['someone with no role in this workspace', '777', 'person_unknown'],
  ])('refuses %s with 403 and a reason code, audited, and writes nothing', async (_who, actingUserId, refusal) => {
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await propose(id);
    const res = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId });
    expect(res).toMatchObject({
      status: 403,
      body: { error: { code: 'APPROVAL_DECISION_FORBIDDEN', details: { refusal } } },
    });
    expect(await approvalEvents(harness, id, 'approval.refused')).toEqual([
      expect.objectContaining({
        reasons: [refusal],
        actor: expect.objectContaining({ type: 'person', crmUserId: actingUserId }),
      }),
    ]);
    expect((await api(harness, 'GET', `/v1/admin/approvals/${approvalId}`, { token: ws.adminToken })).body.status).toBe(
      'pending',
    );
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBeUndefined();
  });

  it('lets a rep decide on a record they own in the CRM', async () => {
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const res = await decide(harness, ws.adminToken, await propose(id), { kind: 'approve', actingUserId: '1001' });
    expect(res.body.status).toBe('applied');
  });

  it('knows a rep by their HubSpot owner id, looked up or given, not by their user id', async () => {
    // In HubSpot owner 1002 is user 7002; user 1002 is someone else, who owns nothing.
    harness.hubspot.state.ownerUsers.set('1002', '7002');
    await givePeopleRoles(harness, ws.workspaceId, { '7002': 'rep', '1002': 'rep' });
    const people = await api(harness, 'GET', '/v1/admin/people', { token: ws.adminToken });
    expect(people.body.people).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ crmUserId: '7002', crmOwnerId: '1002' }),
        expect.objectContaining({ crmUserId: '1002', crmOwnerId: null }),
      ]),
    );
    const owned = seedContact(harness, { hubspot_owner_id: '1002' });
    const approvalId = await propose(owned);
    expect(await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '1002' })).toMatchObject({
      status: 403,
      body: { error: { details: { refusal: 'not_record_owner' } } },
    });
    expect(
      (await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '7002' })).body.status,
    ).toBe('applied');

    const given = await api(harness, 'PUT', '/v1/admin/people/8003', {
      token: ws.adminToken,
      body: { role: 'rep', crmOwnerId: '1003' },
    });
    expect(given.body).toMatchObject({ crmUserId: '8003', role: 'rep', crmOwnerId: '1003' });
  });

  it('never lets the person an agent acts for approve its change', async () => {
    await createDelegation(
      harness.deps,
      ws.workspaceId,
      { agentId: ws.agents[0]!.id, crmUserId: '501', expiresAt: new Date(Date.now() + 86_400_000) },
      ADMIN,
    );
    const id = seedContact(harness);
    const approvalId = await propose(id, '501');
    const res = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(res).toMatchObject({
      status: 403,
      body: { error: { details: { refusal: 'delegated_user_cannot_approve' } } },
    });
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBeUndefined();
  });

  it('takes the role from the people table, never from the request', async () => {
    const approvalId = await propose(seedContact(harness));
    const res = await decide(harness, ws.adminToken, approvalId, {
      kind: 'approve',
      actingUserId: '601',
      role: 'revops_admin',
    });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
  });

  it('answers 401 without the admin token, and to an agent’s token', async () => {
    const approvalId = await propose(seedContact(harness));
    for (const token of [undefined, ws.agents[0]!.token]) {
      expect(
        (
          await api(harness, 'POST', `/v1/admin/approvals/${approvalId}/decisions`, {
            ...(token ? { token } : {}),
            body: { kind: 'approve', actingUserId: '501' },
          })
        ).status,
      ).toBe(401);
      expect((await api(harness, 'GET', '/v1/admin/approvals', { ...(token ? { token } : {}) })).status).toBe(401);
      expect(
        (await api(harness, 'PUT', '/v1/admin/people/501', { ...(token ? { token } : {}), body: { role: 'owner' } }))
          .status,
      ).toBe(401);
    }
  });
});

describe('PUT /v1/admin/people/:crmUserId', () => {
  it('gives a person a role that then governs their decisions, audited with the previous role', async () => {
    const id = seedContact(harness);
    const approvalId = await propose(id);
    const res = await api(harness, 'PUT', '/v1/admin/people/601', { token: ws.adminToken, body: { role: 'approver' } });
    expect(res).toMatchObject({ status: 200, body: { crmUserId: '601', role: 'approver' } });
    expect((await api(harness, 'GET', '/v1/admin/people', { token: ws.adminToken })).body.people).toContainEqual(
      expect.objectContaining({ crmUserId: '601', role: 'approver' }),
    );
    expect(
      (await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '601' })).body.status,
    ).toBe('applied');
    const events = await harness.database.db.select().from(auditEvents).where(eq(auditEvents.type, 'person.role_set'));
    expect(events.at(-1)).toMatchObject({
      before: { role: 'auditor' },
      after: { role: 'approver' },
      data: { crmUserId: '601' },
    });
  });

  it('refuses an unknown role and a user id that is not a CRM id', async () => {
    expect(
      (await api(harness, 'PUT', '/v1/admin/people/601', { token: ws.adminToken, body: { role: 'superuser' } })).status,
    ).toBe(400);
    expect(
      (await api(harness, 'PUT', '/v1/admin/people/bob', { token: ws.adminToken, body: { role: 'rep' } })).status,
    ).toBe(400);
  });
});
