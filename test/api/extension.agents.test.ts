import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { api, EXAMPLE_POLICY, startHarness, type Harness } from '../support/harness.ts';

/**
 * Agents and policy history on the settings page (issue 8): created, paused, resumed and revoked
 * by an owner or RevOps admin signed in HubSpot, audited with the person as actor; an earlier
 * policy version published again as a new one, under dual control like any publish.
 */

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedAppWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedAppWorkspace(harness, {
    '701': 'owner',
    '702': 'revops_admin',
    '501': 'approver',
    '601': 'auditor',
    '1001': 'rep',
  });
});
afterEach(() => harness.close());

const as = (userId: string, call: { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; body?: unknown }) =>
  callAsHubSpot(harness, { ...call, portalId: ws.portalId, userId, clientSecret: ws.clientSecret });
/** Any agent-API call does: an active agent's token is let through (here to a 404), a revoked or paused one is refused. */
const agentCall = (token: string) => api(harness, 'GET', `/v1/changesets/${randomUUID()}`, { token });
const agentEvents = async (agentId: string) =>
  (await as('701', { path: `/audit?agent=${agentId}` })).body.events as {
    type: string;
    actor: Record<string, unknown>;
    after: unknown;
  }[];

describe('agents from the settings page', () => {
  it('lets an owner create an agent, whose token is in that answer only and works at once', async () => {
    const created = await as('701', { method: 'POST', path: '/agents', body: { name: 'scout', role: 'prospecting' } });
    expect(created).toMatchObject({
      status: 201,
      body: {
        id: expect.any(String),
        name: 'scout',
        role: 'prospecting',
        status: 'active',
        token: expect.stringMatching(/^agt_/),
      },
    });
    expect((await agentCall(created.body.token)).status).toBe(404);

    const settings = await as('701', { path: '/settings' });
    expect(settings.body.agents).toContainEqual({
      id: created.body.id,
      name: 'scout',
      role: 'prospecting',
      status: 'active',
      createdAt: expect.any(String),
    });
    expect(JSON.stringify(settings.body)).not.toContain(created.body.token);
    expect(await agentEvents(created.body.id)).toEqual([
      expect.objectContaining({
        type: 'agent.created',
        actor: { type: 'person', name: 'hubspot-user:701', crmUserId: '701', role: 'owner', via: 'hubspot_app' },
        after: { name: 'scout', role: 'prospecting', status: 'active' },
      }),
    ]);
  });

  it('refuses a second agent of the same name, and a body naming no role', async () => {
    expect(
      await as('702', { method: 'POST', path: '/agents', body: { name: 'enricher', role: 'enrichment' } }),
    ).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect(await as('702', { method: 'POST', path: '/agents', body: { name: 'nameless' } })).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED' } },
    });
  });

  it('pauses, resumes and revokes an agent as the person, and a revoked agent stays revoked', async () => {
    const { id, token } = ws.agent;
    expect(await as('701', { method: 'POST', path: `/agents/${id}/pause` })).toMatchObject({
      status: 200,
      body: { id, status: 'paused' },
    });
    expect(await agentCall(token)).toMatchObject({ status: 403, body: { error: { code: 'AGENT_NOT_ACTIVE' } } });
    expect(await as('702', { method: 'POST', path: `/agents/${id}/resume` })).toMatchObject({
      status: 200,
      body: { status: 'active' },
    });
    expect((await agentCall(token)).status).toBe(404);
    expect(await as('701', { method: 'POST', path: `/agents/${id}/revoke` })).toMatchObject({
      status: 200,
      body: { status: 'revoked' },
    });
    expect(await agentCall(token)).toMatchObject({ status: 403, body: { error: { code: 'AGENT_NOT_ACTIVE' } } });
    expect(await as('701', { method: 'POST', path: `/agents/${id}/resume` })).toMatchObject({
      status: 409,
      body: { error: { code: 'CONFLICT' } },
    });

    const events = (await agentEvents(id)).filter((event) => event.type !== 'agent.created');
    expect(events.map((event) => [event.type, event.actor.crmUserId])).toEqual([
      ['agent.revoked', '701'],
      ['agent.resumed', '702'],
      ['agent.paused', '701'],
    ]);
  });

  it('answers 400 for an action that is not pause, resume or revoke', async () => {
    expect(await as('701', { method: 'POST', path: `/agents/${ws.agent.id}/delete` })).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED' } },
    });
  });

  it.each([
    ['501', 'approver'],
    ['601', 'auditor'],
    ['1001', 'rep'],
  ])('refuses user %s (%s) 403, changing nothing', async (userId, role) => {
    const refused = {
      status: 403,
      body: { error: { code: 'FORBIDDEN', details: { reason: 'role_not_allowed', role } } },
    };
    expect(
      await as(userId, { method: 'POST', path: '/agents', body: { name: 'sneaky', role: 'admin' } }),
    ).toMatchObject(refused);
    expect(await as(userId, { method: 'POST', path: `/agents/${ws.agent.id}/revoke` })).toMatchObject(refused);
    expect((await agentCall(ws.agent.token)).status).toBe(404);
    expect((await api(harness, 'GET', '/v1/admin/agents', { token: ws.adminToken })).body.agents).toEqual([
      expect.objectContaining({ name: 'enricher', status: 'active' }),
    ]);
  });

  it('answers 404 for another portal’s agent, and for an id that is no agent', async () => {
    const other = await seedAppWorkspace(harness, { '701': 'owner' });
    const theirs = await as('701', { method: 'POST', path: `/agents/${other.agent.id}/revoke` });
    expect(theirs).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect((await agentCall(other.agent.token)).status).toBe(404);
    expect(await as('701', { method: 'POST', path: '/agents/not-an-id/pause' })).toMatchObject({ status: 404 });
  });
});

describe('restoring a policy version from the settings page', () => {
  const tighter = {
    ...(EXAMPLE_POLICY as object),
    name: 'tighter',
    caps: { writesPerAgentPerDay: 100, writesPerRecordPerDay: 5, sendsPerRecipientDomainPerDay: 10 },
  };

  it('publishes the old document again as a new version, by the person', async () => {
    const active = async () =>
      (await api(harness, 'GET', '/v1/admin/policies/active', { token: ws.adminToken })).body as {
        version: number;
        policy: unknown;
      };
    const first = await active();
    expect(await as('702', { method: 'POST', path: '/policies', body: { document: tighter } })).toMatchObject({
      status: 201,
      body: { version: 2 },
    });
    expect(await as('701', { method: 'POST', path: '/policies/1/restore' })).toMatchObject({
      status: 201,
      body: { version: 3 },
    });

    expect(await active()).toEqual({ version: 3, policy: first.policy });
    const settings = await as('501', { path: '/settings' });
    expect(
      settings.body.history.map((row: { version: number; publishedBy: string }) => [row.version, row.publishedBy]),
    ).toEqual([
      [3, 'person:hubspot-user:701'],
      [2, 'person:hubspot-user:702'],
      [1, 'admin:tester'],
    ]);
  });

  it('is held for a second admin when the old version weakens dual control, answering 409 as a publish does', async () => {
    const dual = {
      ...(EXAMPLE_POLICY as object),
      dualControl: { killSwitchRelease: true, tierLowering: true, capRaiseShare: 0.25 },
    };
    expect(await as('701', { method: 'POST', path: '/policies', body: { document: dual } })).toMatchObject({
      status: 201,
      body: { version: 2 },
    });
    const held = await as('701', { method: 'POST', path: '/policies/1/restore' });
    expect(held).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'SECOND_ADMIN_REQUIRED',
          details: {
            requestId: expect.any(String),
            reasons: expect.arrayContaining([expect.objectContaining({ code: 'dual_control_weakened' })]),
          },
        },
      },
    });
    expect((await as('702', { path: '/settings' })).body.policy.version).toBe(2);

    const confirmed = await as('702', {
      method: 'POST',
      path: `/governance-requests/${held.body.error.details.requestId}/confirm`,
    });
    expect(confirmed.status).toBe(200);
    const settings = await as('702', { path: '/settings' });
    expect(settings.body.policy).toMatchObject({ version: 3 });
    expect(settings.body.policy.policy.dualControl).toBeUndefined();
  });

  it('refuses an approver 403, and answers 404 for a version this workspace never published', async () => {
    expect(await as('501', { method: 'POST', path: '/policies/1/restore' })).toMatchObject({
      status: 403,
      body: { error: { code: 'FORBIDDEN', details: { reason: 'role_not_allowed' } } },
    });
    expect(await as('701', { method: 'POST', path: '/policies/9/restore' })).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    expect(await as('701', { method: 'POST', path: '/policies/first/restore' })).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED' } },
    });
  });
});
