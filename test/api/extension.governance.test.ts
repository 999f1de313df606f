import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { api, EXAMPLE_POLICY, startHarness, type Harness } from '../support/harness.ts';

/**
 * The settings page's caps, windows and conditions published through the app (issue 8), checked
 * by the same zod schema as everywhere, and dual control (issue 5) confirmed by a second admin
 * signed in HubSpot, whose role may come from a HubSpot team.
 */

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedAppWorkspace>>;
const DUAL = { killSwitchRelease: true, tierLowering: true, capRaiseShare: 0.25 };
/** seedAppWorkspace publishes version 1; the one with dual control, published below, is 2. */
const IN_FORCE = 2;
const policy = (overrides: object) => ({ ...(EXAMPLE_POLICY as object), dualControl: DUAL, ...overrides });

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedAppWorkspace(harness, { '701': 'owner', '702': 'revops_admin', '501': 'approver' });
  expect((await api(harness, 'POST', '/v1/admin/policies', { token: ws.adminToken, body: policy({}) })).status).toBe(
    201,
  );
});
afterEach(() => harness.close());

const as = (userId: string, call: { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; body?: unknown }) =>
  callAsHubSpot(harness, { ...call, portalId: ws.portalId, userId, clientSecret: ws.clientSecret });
const publish = (userId: string, document: unknown) =>
  as(userId, { method: 'POST', path: '/policies', body: { document } });

describe('publishing caps, windows and conditions from the app', () => {
  it.each([
    ['a cap of zero', { caps: { writesPerRecordPerDay: 0 } }, 'caps.writesPerRecordPerDay must be greater than 0'],
    [
      'a window ending at 25:00',
      { windows: [{ actions: ['send_email'], days: ['mon'], start: '08:00', end: '25:00' }] },
      'windows[0].end must be a 24-hour time written HH:MM',
    ],
    [
      'a condition with no threshold',
      { conditions: [{ kind: 'confidence_below', raiseTo: 'approval' }] },
      'conditions[0].threshold is required',
    ],
  ])(
    'refuses %s with 400 POLICY_INVALID and a sentence naming the field, keeping the version in force',
    async (_what, overrides, sentence) => {
      const res = await publish('701', policy(overrides));
      expect(res).toMatchObject({
        status: 400,
        body: {
          error: {
            code: 'POLICY_INVALID',
            message: expect.stringContaining(sentence),
            details: { issues: expect.arrayContaining([expect.stringContaining(sentence)]) },
          },
        },
      });
      expect((await as('701', { path: '/settings' })).body.policy.version).toBe(IN_FORCE);
    },
  );

  it('publishes a tighter cap, a new window and a stricter condition at once, as the person', async () => {
    const document = policy({
      caps: { writesPerAgentPerDay: 40_000, writesPerRecordPerDay: 10, sendsPerRecipientDomainPerDay: 50 },
      windows: [
        {
          actions: ['send_email', 'create_task'],
          roles: ['outreach'],
          days: ['mon', 'tue'],
          start: '09:00',
          end: '17:00',
          timezone: 'Europe/Paris',
        },
      ],
      conditions: [{ kind: 'confidence_below', threshold: 0.8, raiseTo: 'two_person' }],
    });
    expect(await publish('702', document)).toMatchObject({ status: 201, body: { version: IN_FORCE + 1 } });
    const settings = await as('501', { path: '/settings' });
    expect(settings.body.policy.policy).toMatchObject({
      caps: { writesPerRecordPerDay: 10 },
      windows: [expect.objectContaining({ timezone: 'Europe/Paris' })],
      conditions: [{ threshold: 0.8, raiseTo: 'two_person' }],
    });
    expect(settings.body.history[0]).toMatchObject({ version: IN_FORCE + 1, publishedBy: 'person:hubspot-user:702' });
  });
});

describe('dual control in the app', () => {
  it('answers 409 SECOND_ADMIN_REQUIRED for a raised cap, lists the request, and publishes once a second admin confirms', async () => {
    const raised = policy({
      caps: { writesPerAgentPerDay: 100_000, writesPerRecordPerDay: 20, sendsPerRecipientDomainPerDay: 50 },
    });
    const held = await publish('701', raised);
    expect(held).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'SECOND_ADMIN_REQUIRED',
          details: { requestId: expect.any(String), reasons: [{ code: 'cap_raised' }] },
        },
      },
    });
    const requestId = held.body.error.details.requestId as string;
    const settings = await as('702', { path: '/settings' });
    expect(settings.body.governanceRequests).toEqual([
      expect.objectContaining({
        id: requestId,
        kind: 'policy_publish',
        requestedBy: 'person:701',
        reasons: [expect.objectContaining({ code: 'cap_raised' })],
      }),
    ]);
    expect(settings.body.policy.version).toBe(IN_FORCE);

    expect(await as('701', { method: 'POST', path: `/governance-requests/${requestId}/confirm` })).toMatchObject({
      status: 403,
      body: { error: { details: { refusal: 'same_person' } } },
    });
    expect(await as('501', { method: 'POST', path: `/governance-requests/${requestId}/confirm` })).toMatchObject({
      status: 403,
      body: { error: { details: { reason: 'role_not_allowed' } } },
    });
    expect(await as('702', { method: 'POST', path: `/governance-requests/${requestId}/confirm` })).toMatchObject({
      status: 200,
      body: { status: 'confirmed', decidedBy: 'person:702' },
    });
    const after = await as('702', { path: '/settings' });
    expect(after.body).toMatchObject({
      policy: { version: IN_FORCE + 1, policy: { caps: { writesPerAgentPerDay: 100_000 } } },
      governanceRequests: [],
    });
  });

  it('lets a RevOps admin by HubSpot team confirm, and the requester cancel their own request', async () => {
    harness.hubspot.state.users.set('2001', { primaryTeamId: '7201', secondaryTeamIds: [] });
    await as('701', { method: 'PUT', path: '/team-roles/7201', body: { role: 'revops_admin' } });
    const lowered = policy({ objects: { contacts: { properties: { phone: { enrichment: 'auto' } } } } });
    const first = (await publish('701', lowered)).body.error.details.requestId as string;
    expect(await as('2001', { method: 'POST', path: `/governance-requests/${first}/confirm` })).toMatchObject({
      status: 200,
      body: { status: 'confirmed', decidedBy: 'person:2001' },
    });
    const second = (await publish('701', policy({ caps: {} }))).body.error.details.requestId as string;
    expect(await as('701', { method: 'POST', path: `/governance-requests/${second}/cancel` })).toMatchObject({
      status: 200,
      body: { status: 'cancelled' },
    });
    expect((await as('701', { path: '/settings' })).body).toMatchObject({
      policy: { version: IN_FORCE + 1 },
      governanceRequests: [],
    });
  });
});
