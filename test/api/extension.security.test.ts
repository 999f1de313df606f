import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { approvalEvents, proposeHeld, seedContact } from '../support/approvals.ts';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { api, startHarness, type Harness } from '../support/harness.ts';
import { signV3 } from '../support/webhooks.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedAppWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedAppWorkspace(harness, {
    '501': 'approver',
    '601': 'auditor',
    '1001': 'rep',
    '1002': 'rep',
    '701': 'owner',
  });
});
afterEach(() => harness.close());

const propose = (recordId: string) =>
  proposeHeld(harness, {
    token: ws.agent.token,
    adminToken: ws.adminToken,
    recordId,
    properties: { phone: '+1 555 0199' },
  });
const approveAs = (userId: string, approvalId: string, extra: Partial<Parameters<typeof callAsHubSpot>[1]> = {}) =>
  callAsHubSpot(harness, {
    method: 'POST',
    path: `/approvals/${approvalId}/decisions`,
    body: { kind: 'approve' },
    portalId: ws.portalId,
    userId,
    clientSecret: ws.clientSecret,
    ...extra,
  });
const statusOf = async (approvalId: string) =>
  (await api(harness, 'GET', `/v1/admin/approvals/${approvalId}`, { token: ws.adminToken })).body.status;

describe('requests that HubSpot did not sign', () => {
  it.each([
    ['carries no signature', { unsigned: true }, 'signature_missing'],
    ['is signed with another secret', { clientSecret: 'not-the-app-secret' }, 'signature_invalid'],
    ['is older than five minutes', { timestamp: Date.now() - 6 * 60_000 }, 'timestamp_stale'],
  ])('refuses a decision that %s with 401 and leaves the approval pending', async (_what, change, reason) => {
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await propose(id);
    const res = await approveAs('501', approvalId, change);
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED', details: { reason } } } });
    expect(await statusOf(approvalId)).toBe('pending');
    expect(recordValues(harness.hubspot.state, 'contacts', id)!.phone).toBeUndefined();
  });

  it('refuses a request whose userId was changed after HubSpot signed it (a rep posing as the owner)', async () => {
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await propose(id);
    // Signed for rep 1002, then sent naming owner 701.
    const signedFor1002 = new URL(`${harness.url}/v1/extension/approvals/${approvalId}/decisions`);
    for (const [key, value] of Object.entries({
      userId: '1002',
      userEmail: 'user701@example.com',
      appId: '4242424',
      portalId: ws.portalId,
    }))
      signedFor1002.searchParams.set(key, value);
    const res = await approveAs('701', approvalId, { signedUrl: signedFor1002.toString() });
    expect(res).toMatchObject({ status: 401, body: { error: { details: { reason: 'signature_invalid' } } } });
    expect(await statusOf(approvalId)).toBe('pending');
  });

  it.each([
    ['userId', '701'],
    ['portalId', '99999'],
  ])(
    'refuses a signed request whose own query names %s before HubSpot appends it (a rep posing as the owner)',
    async (name, value) => {
      const id = seedContact(harness, { hubspot_owner_id: '1001' });
      const approvalId = await propose(id);
      // The URL the rep's hubspot.fetch asked for already names someone; HubSpot appends the true values after, and signs it all.
      const url = new URL(`${harness.url}/v1/extension/approvals/${approvalId}/decisions?${name}=${value}`);
      for (const [key, appended] of Object.entries({ userId: '1002', appId: '4242424', portalId: ws.portalId }))
        url.searchParams.append(key, appended);
      const body = JSON.stringify({ kind: 'approve' });
      const timestamp = Date.now();
      const signature = signV3({ clientSecret: ws.clientSecret, url: url.toString(), body, timestamp });
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hubspot-signature-v3': signature,
          'x-hubspot-request-timestamp': String(timestamp),
        },
        body,
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({
        error: { code: 'UNAUTHENTICATED', details: { reason: 'identity_repeated' } },
      });
      expect(await statusOf(approvalId)).toBe('pending');
    },
  );

  it('answers 401 portal_unknown for an account no workspace is connected to', async () => {
    const res = await callAsHubSpot(harness, {
      path: '/card?objectType=contacts&recordId=1',
      portalId: '99999',
      userId: '501',
      clientSecret: ws.clientSecret,
    });
    expect(res).toMatchObject({ status: 401, body: { error: { details: { reason: 'portal_unknown' } } } });
  });

  it('refuses a signed request from a HubSpot user with no role, with 403 person_unknown', async () => {
    const res = await callAsHubSpot(harness, {
      path: '/card?objectType=contacts&recordId=1',
      portalId: ws.portalId,
      userId: '4040',
      clientSecret: ws.clientSecret,
    });
    expect(res).toMatchObject({
      status: 403,
      body: { error: { code: 'FORBIDDEN', details: { reason: 'person_unknown' } } },
    });
  });

  it('takes the person from the signature, never from the body', async () => {
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await propose(id);
    const res = await approveAs('1002', approvalId, { body: { kind: 'approve', actingUserId: '701' } });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect(await statusOf(approvalId)).toBe('pending');
  });
});

describe('who may do what through the app', () => {
  it("answers 404 for another portal's approval, and the other portal's card shows none of it", async () => {
    const other = await seedAppWorkspace(harness, { '501': 'owner' });
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await propose(id);
    const decided = await approveAs('501', approvalId, { portalId: other.portalId, clientSecret: other.clientSecret });
    expect(decided).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    const card = await callAsHubSpot(harness, {
      path: `/card?objectType=contacts&recordId=${id}`,
      portalId: other.portalId,
      userId: '501',
      clientSecret: other.clientSecret,
    });
    expect(card.body.pending).toMatchObject({ total: 0, items: [] });
    expect(await statusOf(approvalId)).toBe('pending');
  });

  it('refuses a rep deciding on a record they do not own, audited, and the card says so beforehand', async () => {
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await propose(id);
    const card = await callAsHubSpot(harness, {
      path: `/card?objectType=contacts&recordId=${id}`,
      portalId: ws.portalId,
      userId: '1002',
      clientSecret: ws.clientSecret,
    });
    expect(card.body.pending.items[0].decidable).toEqual({ ok: false, code: 'not_record_owner' });
    const res = await approveAs('1002', approvalId);
    expect(res).toMatchObject({
      status: 403,
      body: { error: { code: 'APPROVAL_DECISION_FORBIDDEN', details: { refusal: 'not_record_owner' } } },
    });
    expect(await approvalEvents(harness, id, 'approval.refused')).toEqual([
      expect.objectContaining({ actor: expect.objectContaining({ crmUserId: '1002', via: 'hubspot_app' }) }),
    ]);
    expect(await statusOf(approvalId)).toBe('pending');
  });

  it('lets an auditor read the card but not decide', async () => {
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await propose(id);
    const card = await callAsHubSpot(harness, {
      path: `/card?objectType=contacts&recordId=${id}`,
      portalId: ws.portalId,
      userId: '601',
      clientSecret: ws.clientSecret,
    });
    expect(card.body.pending.items[0].decidable).toEqual({ ok: false, code: 'role_cannot_decide' });
    const res = await approveAs('601', approvalId);
    expect(res).toMatchObject({ status: 403, body: { error: { details: { refusal: 'role_cannot_decide' } } } });
  });

  it.each([
    ['a rep', '1002', 'GET', '/settings', undefined],
    ['an approver', '501', 'POST', '/policies', { document: {} }],
    ['an auditor', '601', 'PUT', '/kill-switches', { scope: 'workspace', engaged: true, reason: 'stop' }],
    ['a rep', '1001', 'GET', '/audit', undefined],
  ] as const)(
    'refuses %s (%s %s) with 403 role_not_allowed and changes nothing',
    async (_who, userId, method, path, body) => {
      const res = await callAsHubSpot(harness, {
        method,
        path,
        body,
        portalId: ws.portalId,
        userId,
        clientSecret: ws.clientSecret,
      });
      expect(res).toMatchObject({
        status: 403,
        body: { error: { code: 'FORBIDDEN', details: { reason: 'role_not_allowed' } } },
      });
      const switches = await api(harness, 'GET', '/v1/admin/kill-switches', { token: ws.adminToken });
      expect(JSON.stringify(switches.body)).not.toContain('"engaged":true');
      expect((await api(harness, 'GET', '/v1/admin/policies', { token: ws.adminToken })).body.versions).toHaveLength(1);
    },
  );
});
