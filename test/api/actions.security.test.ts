import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDelegation } from '../../server/src/services/governance/index.ts';
import {
  actionEvents,
  decideAction,
  emailAction,
  publishActionTiers,
  submitAction,
  testClock,
} from '../support/actions.ts';
import { givePeopleRoles, seedContact } from '../support/approvals.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let clock: ReturnType<typeof testClock>;
const agentToken = () => ws.agents[0]!.token;

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedWorkspace(harness, ['outreach', 'outreach']);
  await givePeopleRoles(harness, ws.workspaceId, {
    '2001': 'approver',
    '2002': 'revops_admin',
    '3001': 'auditor',
    '1001': 'rep',
    '1002': 'rep',
  });
});
afterEach(() => harness.close());

async function heldEmail(options: { onBehalfOf?: string } = {}): Promise<{ contactId: string; id: string }> {
  const contactId = seedContact(harness, { hubspot_owner_id: '1001' });
  const res = await submitAction(
    harness,
    agentToken(),
    emailAction(contactId, options.onBehalfOf ? { onBehalfOf: { crmUserId: options.onBehalfOf } } : {}),
  );
  expect(res.body.status).toBe('pending');
  return { contactId, id: res.body.id };
}

describe('who may decide a draft', () => {
  it.each([
    ['an auditor', '3001', 'role_cannot_decide'],
    ['a rep on a record they do not own', '1002', 'not_record_owner'],
    ['someone with no role in this workspace', '777', 'person_unknown'],
  ])('refuses %s with 403 and a reason code, audited, and releases nothing', async (_who, actingUserId, refusal) => {
    const { contactId, id } = await heldEmail();
    const res = await decideAction(harness, ws.adminToken, id, { kind: 'approve', actingUserId });
    expect(res).toMatchObject({
      status: 403,
      body: { error: { code: 'APPROVAL_DECISION_FORBIDDEN', details: { refusal } } },
    });
    expect((await actionEvents(harness, contactId)).at(-1)).toMatchObject({
      type: 'action.decision_refused',
      reasons: [refusal],
      actor: expect.objectContaining({ crmUserId: actingUserId }),
    });
    expect((await api(harness, 'GET', `/v1/actions/${id}`, { token: agentToken() })).body).toMatchObject({
      status: 'pending',
      approvedBy: [],
    });
  });

  it('lets a rep release a draft on a record they own', async () => {
    const { id } = await heldEmail();
    expect(
      (await decideAction(harness, ws.adminToken, id, { kind: 'approve', actingUserId: '1001' })).body,
    ).toMatchObject({ status: 'released', approvedBy: ['1001'] });
  });

  it('never counts the person the agent acts for, whatever their role', async () => {
    await createDelegation(
      harness.deps,
      ws.workspaceId,
      { agentId: ws.agents[0]!.id, crmUserId: '2001', expiresAt: new Date('2027-01-01T00:00:00Z') },
      ADMIN,
    );
    const { id } = await heldEmail({ onBehalfOf: '2001' });
    const own = await decideAction(harness, ws.adminToken, id, { kind: 'approve', actingUserId: '2001' });
    expect(own).toMatchObject({
      status: 403,
      body: { error: { details: { refusal: 'delegated_user_cannot_approve' } } },
    });
    expect(
      (await decideAction(harness, ws.adminToken, id, { kind: 'approve', actingUserId: '2002' })).body.status,
    ).toBe('released');
  });
});

describe('two-person drafts', () => {
  beforeEach(() => publishActionTiers(harness, ws.workspaceId, { send_email: { outreach: 'two_person' } }));

  it('needs two different people before the email is released', async () => {
    const { id } = await heldEmail();
    expect(
      (await decideAction(harness, ws.adminToken, id, { kind: 'approve', actingUserId: '2001' })).body,
    ).toMatchObject({ status: 'pending', approvedBy: ['2001'] });
    const twice = await decideAction(harness, ws.adminToken, id, { kind: 'approve', actingUserId: '2001' });
    expect(twice).toMatchObject({
      status: 403,
      body: { error: { details: { refusal: 'already_approved_by_this_person' } } },
    });
    expect((await api(harness, 'GET', `/v1/actions/${id}`, { token: agentToken() })).body.releaseToken).toBeUndefined();
    const second = await decideAction(harness, ws.adminToken, id, { kind: 'approve', actingUserId: '2002' });
    expect(second.body).toMatchObject({ status: 'released', approvedBy: ['2001', '2002'] });
  });

  it('voids earlier approvals when a person edits the draft: the edited text needs two people again', async () => {
    const { id } = await heldEmail();
    await decideAction(harness, ws.adminToken, id, { kind: 'approve', actingUserId: '2001' });
    const edited = await decideAction(harness, ws.adminToken, id, {
      kind: 'approve',
      actingUserId: '2002',
      edits: { body: 'Hi Ada, the sheet is attached.' },
    });
    expect(edited.body).toMatchObject({
      status: 'pending',
      approvedBy: ['2002'],
      edited: { body: 'Hi Ada, the sheet is attached.' },
    });
    const released = await decideAction(harness, ws.adminToken, id, { kind: 'approve', actingUserId: '2001' });
    expect(released.body).toMatchObject({ status: 'released', approvedBy: ['2002', '2001'] });
    expect((await api(harness, 'GET', `/v1/actions/${id}`, { token: agentToken() })).body.released.body).toBe(
      'Hi Ada, the sheet is attached.',
    );
  });
});

describe('isolation', () => {
  it('answers 404 for another workspace’s action, to its agents and its admins alike', async () => {
    const { id } = await heldEmail();
    const other = await seedWorkspace(harness, ['outreach']);
    expect((await api(harness, 'GET', `/v1/actions/${id}`, { token: other.agents[0]!.token })).status).toBe(404);
    expect((await api(harness, 'GET', `/v1/admin/actions/${id}`, { token: other.adminToken })).status).toBe(404);
    expect(
      (
        await api(harness, 'POST', `/v1/actions/${id}/verify`, {
          token: other.agents[0]!.token,
          body: { releaseToken: 'rel_x' },
        })
      ).status,
    ).toBe(404);
    const decided = await decideAction(harness, other.adminToken, id, { kind: 'approve', actingUserId: '2001' });
    expect(decided).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect((await api(harness, 'GET', `/v1/admin/actions`, { token: other.adminToken })).body.actions).toEqual([]);
  });

  it('hides an agent’s action and its release token from another agent of the same workspace', async () => {
    const { id } = await heldEmail();
    await decideAction(harness, ws.adminToken, id, { kind: 'approve', actingUserId: '2001' });
    const otherAgent = ws.agents[1]!.token;
    // As an unknown id answers, but for the id asked about and the request's own id: its existence is not revealed.
    const unknownId = '0193d0a4-0000-7000-8000-000000000000';
    const alike = async (method: string, path: (id: string) => string, body?: object) => {
      const theirs = await api(harness, method, path(id), { token: otherAgent, body });
      const unknown = await api(harness, method, path(unknownId), { token: otherAgent, body });
      expect([theirs.status, unknown.status]).toEqual([404, 404]);
      const { requestId: _theirs, ...theirError } = theirs.body.error;
      const { requestId: _unknown, ...unknownError } = unknown.body.error;
      expect(JSON.stringify(theirError).replaceAll(id, 'ID')).toBe(
        JSON.stringify(unknownError).replaceAll(unknownId, 'ID'),
      );
    };
    await alike('GET', (action) => `/v1/actions/${action}`);
    await alike('POST', (action) => `/v1/actions/${action}/outcome`, { outcome: 'replied' });
  });

  it('answers 404 for a malformed id, and 401 without a token', async () => {
    expect((await api(harness, 'GET', '/v1/actions/not-a-uuid', { token: agentToken() })).status).toBe(404);
    expect((await api(harness, 'POST', '/v1/actions', { body: emailAction('1') })).status).toBe(401);
    expect((await api(harness, 'GET', '/v1/admin/actions', { token: agentToken() })).status).toBe(401);
  });
});

describe('a sending service verifying a release token', () => {
  async function releasedEmail(options: { onBehalfOf?: string } = {}) {
    const { id } = await heldEmail(options);
    await decideAction(harness, ws.adminToken, id, { kind: 'approve', actingUserId: '2001' });
    const read = await api(harness, 'GET', `/v1/actions/${id}`, { token: agentToken() });
    expect(read.body.releaseToken).toMatch(/^rel_/);
    return { id, releaseToken: read.body.releaseToken as string };
  }
  const killSwitch = (body: object) =>
    api(harness, 'PUT', '/v1/admin/kill-switches', { token: ws.adminToken, body: { reason: 'Wrong list', ...body } });
  // The other agent of the workspace stands for the sending service, which needs no switch of its own.
  const verify = (id: string, releaseToken: string) =>
    api(harness, 'POST', `/v1/actions/${id}/verify`, { token: ws.agents[1]!.token, body: { releaseToken } });

  it.each([
    ['the drafting agent', () => ({ scope: 'agent', target: undefined })],
    ['sending emails', () => ({ scope: 'action', target: 'send_email' })],
    ['the recipient’s domain', () => ({ scope: 'recipient_domain', target: 'example.com' })],
  ])(
    'is refused as the drafting agent’s read is while a switch stops %s, and valid again once released',
    async (_what, scoped) => {
      const { id, releaseToken } = await releasedEmail();
      const agentId = ws.agents[0]!.id;
      const { scope, target } = scoped();
      const switchOf = { scope, target: target ?? agentId };
      expect((await killSwitch({ ...switchOf, engaged: true })).status).toBe(200);

      const refused = await verify(id, releaseToken);
      expect(refused).toMatchObject({
        status: 423,
        body: { error: { code: 'KILL_SWITCH_ENGAGED', details: { scope } } },
      });
      expect(refused.body.contentHash).toBeUndefined();
      expect((await api(harness, 'GET', `/v1/actions/${id}`, { token: agentToken() })).status).toBe(423);

      expect((await killSwitch({ ...switchOf, engaged: false, force: true })).status).toBe(200);
      expect((await verify(id, releaseToken)).body).toMatchObject({ valid: true, actionId: id });
    },
  );

  it('is refused while the drafting agent is paused, valid again once it is resumed, and refused for good once it is revoked', async () => {
    const { id, releaseToken } = await releasedEmail();
    const agentId = ws.agents[0]!.id;
    const lifecycle = (step: string) =>
      api(harness, 'POST', `/v1/admin/agents/${agentId}/${step}`, { token: ws.adminToken, body: {} });

    expect((await lifecycle('pause')).status).toBe(200);
    const refused = await verify(id, releaseToken);
    expect(refused).toMatchObject({
      status: 403,
      body: { error: { code: 'AGENT_NOT_ACTIVE', details: { status: 'paused' } } },
    });
    expect(refused.body.contentHash).toBeUndefined();

    expect((await lifecycle('resume')).status).toBe(200);
    expect((await verify(id, releaseToken)).body).toMatchObject({ valid: true, actionId: id });

    expect((await lifecycle('revoke')).status).toBe(200);
    expect((await verify(id, releaseToken)).body).toMatchObject({
      error: { code: 'AGENT_NOT_ACTIVE', details: { status: 'revoked' } },
    });
  });

  describe('of an email drafted for a person', () => {
    const inOneDay = () => new Date(clock.now().getTime() + 86_400_000);
    const delegate = () =>
      api(harness, 'POST', `/v1/admin/agents/${ws.agents[0]!.id}/delegations`, {
        token: ws.adminToken,
        body: { crmUserId: '4242', expiresAt: inOneDay().toISOString() },
      });

    it('is refused once the person’s delegation is ended, as a new draft for them is', async () => {
      const delegation = await delegate();
      expect(delegation.status).toBe(201);
      const { id, releaseToken } = await releasedEmail({ onBehalfOf: '4242' });
      expect((await verify(id, releaseToken)).body).toMatchObject({ valid: true, actionId: id });

      const ended = await api(harness, 'POST', `/v1/admin/delegations/${delegation.body.id}/revoke`, {
        token: ws.adminToken,
        body: {},
      });
      expect(ended).toMatchObject({
        status: 200,
        body: { id: delegation.body.id, revokedAt: clock.now().toISOString() },
      });
      const refused = await verify(id, releaseToken);
      expect(refused).toMatchObject({ status: 403, body: { error: { code: 'DELEGATION_INVALID' } } });
      expect(refused.body.contentHash).toBeUndefined();
      const contactId = seedContact(harness, { hubspot_owner_id: '1001' });
      const draft = await submitAction(
        harness,
        agentToken(),
        emailAction(contactId, { onBehalfOf: { crmUserId: '4242' } }),
      );
      expect(draft).toMatchObject({ status: 403, body: { error: { code: 'DELEGATION_INVALID' } } });
      // An email the agent drafted on its own account is not the person's to stop.
      const own = await releasedEmail();
      expect((await verify(own.id, own.releaseToken)).body).toMatchObject({ valid: true });
    });

    it('is refused once the delegation expires, and verifies again under a new one', async () => {
      expect((await delegate()).status).toBe(201);
      const { id, releaseToken } = await releasedEmail({ onBehalfOf: '4242' });
      clock.advanceHours(25);
      expect((await verify(id, releaseToken)).body).toMatchObject({ error: { code: 'DELEGATION_INVALID' } });
      expect((await delegate()).status).toBe(201);
      expect((await verify(id, releaseToken)).body).toMatchObject({ valid: true, actionId: id });
    });
  });
});

describe('concurrent decisions', () => {
  it('releases once when two people approve at the same moment; the other gets 409', async () => {
    const { contactId, id } = await heldEmail();
    const results = await Promise.all(
      ['2001', '2002'].map((actingUserId) =>
        decideAction(harness, ws.adminToken, id, { kind: 'approve', actingUserId }),
      ),
    );
    expect(results.map((result) => result.status).sort()).toEqual([200, 409]);
    expect((await actionEvents(harness, contactId)).filter((event) => event.type === 'action.released')).toHaveLength(
      1,
    );
  });
});
