import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approvalEvents, proposeHeld, seedContact } from '../support/approvals.ts';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { api, startHarness, type Harness } from '../support/harness.ts';

/**
 * Roles by HubSpot team through the app (issue 8). HubSpot's signed request names only the user
 * and portal; their teams come from HubSpot's Settings API (the fake answers it, behind msw, in
 * the documented shape), never from the request.
 */

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedAppWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedAppWorkspace(harness, { '701': 'owner', '702': 'revops_admin', '1001': 'rep' });
  // HubSpot's account: 2001 is in Approvers as primary team, 2002 in Reps, 2003 in no team; 2004 in both (Reps first).
  const users = harness.hubspot.state.users;
  users.set('2001', { primaryTeamId: '7101', secondaryTeamIds: [] });
  users.set('2002', { primaryTeamId: '7102', secondaryTeamIds: [] });
  users.set('2003', { secondaryTeamIds: [] });
  users.set('2004', { primaryTeamId: '7102', secondaryTeamIds: ['7101'] });
  harness.hubspot.state.teams.set('7101', 'Approvers');
  harness.hubspot.state.teams.set('7102', 'Reps');
});
afterEach(() => harness.close());

const as = (userId: string, call: { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; body?: unknown }) =>
  callAsHubSpot(harness, { ...call, portalId: ws.portalId, userId, clientSecret: ws.clientSecret });
const giveTeam = (teamId: string, role: string, by = '701') =>
  as(by, { method: 'PUT', path: `/team-roles/${teamId}`, body: { role } });
const userLookups = () => harness.hubspot.calls.count({ route: 'GET /settings/v3/users/{userId}' });

describe('a role given to a HubSpot team', () => {
  it('lets someone with no role of their own act with their team’s role, and decide as its approver', async () => {
    expect(await giveTeam('7101', 'approver')).toMatchObject({
      status: 200,
      body: { teamId: '7101', role: 'approver' },
    });
    const settings = await as('2001', { path: '/settings' });
    expect(settings).toMatchObject({
      status: 200,
      body: {
        caller: { userId: '2001', permissions: { role: 'approver' } },
        access: { source: { kind: 'team', teamId: '7101' } },
      },
    });
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await proposeHeld(harness, {
      token: ws.agent.token,
      adminToken: ws.adminToken,
      recordId: id,
      properties: { phone: '+1 555 0199' },
    });
    const decided = await as('2001', {
      method: 'POST',
      path: `/approvals/${approvalId}/decisions`,
      body: { kind: 'approve' },
    });
    expect(decided).toMatchObject({ status: 200, body: { status: 'applied' } });
    expect(await approvalEvents(harness, id, 'approval.decided')).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ crmUserId: '2001', role: 'approver', via: 'hubspot_app' }),
      }),
    ]);
  });

  it('gives the strongest role among all of a person’s teams, and their own role wins over any team’s', async () => {
    await giveTeam('7101', 'approver');
    await giveTeam('7102', 'rep');
    expect((await as('2004', { path: '/settings' })).body.caller.permissions.role).toBe('approver');
    await as('701', { method: 'PUT', path: '/people/2004', body: { role: 'auditor' } });
    const own = await as('2004', { path: '/settings' });
    expect(own.body).toMatchObject({
      caller: { permissions: { role: 'auditor' } },
      access: { source: { kind: 'user' } },
    });
  });

  it('denies what the team’s role may not do: a team of reps cannot read or edit settings', async () => {
    await giveTeam('7102', 'rep');
    expect(await as('2002', { path: '/settings' })).toMatchObject({
      status: 403,
      body: { error: { code: 'FORBIDDEN', details: { reason: 'role_not_allowed', role: 'rep' } } },
    });
    expect(await as('2002', { method: 'PUT', path: '/team-roles/7102', body: { role: 'owner' } })).toMatchObject({
      status: 403,
      body: { error: { details: { reason: 'role_not_allowed' } } },
    });
    expect((await as('701', { path: '/settings' })).body.access.teamRoles).toEqual([
      expect.objectContaining({ teamId: '7102', role: 'rep' }),
    ]);
  });

  it('takes teams from HubSpot, not from the request: naming a team in the query or the body gives no role', async () => {
    await giveTeam('7101', 'approver');
    expect(await as('2003', { path: '/settings' })).toMatchObject({
      status: 403,
      body: { error: { details: { reason: 'person_unknown' } } },
    });
    expect(await as('2003', { path: '/settings?teamId=7101' })).toMatchObject({
      status: 403,
      body: { error: { details: { reason: 'person_unknown' } } },
    });
    const id = seedContact(harness, { hubspot_owner_id: '1001' });
    const approvalId = await proposeHeld(harness, {
      token: ws.agent.token,
      adminToken: ws.adminToken,
      recordId: id,
      properties: { phone: '+1 555 0199' },
    });
    expect(
      await as('2003', {
        method: 'POST',
        path: `/approvals/${approvalId}/decisions`,
        body: { kind: 'approve', teams: ['7101'] },
      }),
    ).toMatchObject({ status: 403 });
    expect((await api(harness, 'GET', `/v1/admin/approvals/${approvalId}`, { token: ws.adminToken })).body.status).toBe(
      'pending',
    );
    expect(userLookups()).toBeGreaterThan(0);
  });

  it('asks HubSpot once per person while its answer is fresh, and not at all when no team has a role', async () => {
    await as('1001', { path: '/card?objectType=contacts&recordId=1' });
    expect(userLookups()).toBe(0);
    await giveTeam('7101', 'approver');
    for (let i = 0; i < 3; i += 1) expect((await as('2001', { path: '/settings' })).status).toBe(200);
    expect(userLookups()).toBe(1);
  });

  it('answers a user HubSpot does not know with person_unknown rather than an error', async () => {
    await giveTeam('7101', 'approver');
    expect(await as('2999', { path: '/settings' })).toMatchObject({
      status: 403,
      body: { error: { details: { reason: 'person_unknown' } } },
    });
  });
});

describe('managing roles from the settings page', () => {
  it('lists HubSpot’s teams to pick from, and records every change in the audit log', async () => {
    expect((await as('702', { path: '/teams' })).body.teams).toEqual(
      expect.arrayContaining([
        { id: '7101', name: 'Approvers' },
        { id: '7102', name: 'Reps' },
      ]),
    );
    await giveTeam('7101', 'approver', '702');
    await as('702', { method: 'PUT', path: '/people/2002', body: { role: 'auditor' } });
    expect(await as('702', { method: 'DELETE', path: '/team-roles/7101' })).toMatchObject({
      status: 200,
      body: { removed: true },
    });
    expect(await as('702', { method: 'DELETE', path: '/people/2002' })).toMatchObject({
      status: 200,
      body: { removed: true },
    });
    expect(await as('702', { method: 'DELETE', path: '/people/2002' })).toMatchObject({ status: 404 });
    const audit = await as('702', { path: '/audit?limit=20' });
    const types = audit.body.events.map((event: { type: string }) => event.type);
    expect(types).toEqual(
      expect.arrayContaining(['team.role_set', 'team.role_removed', 'person.role_set', 'person.role_removed']),
    );
    const teamSet = audit.body.events.find((event: { type: string }) => event.type === 'team.role_set');
    expect(teamSet.actor).toMatchObject({ type: 'person', crmUserId: '702', via: 'hubspot_app' });
  });

  it('lets only an owner grant or take away the owner role', async () => {
    expect(await as('702', { method: 'PUT', path: '/people/702', body: { role: 'owner' } })).toMatchObject({
      status: 403,
      body: { error: { message: expect.stringContaining('only an owner') } },
    });
    expect(await giveTeam('7101', 'owner', '702')).toMatchObject({ status: 403 });
    expect(await as('702', { method: 'DELETE', path: '/people/701' })).toMatchObject({ status: 403 });
    expect(await giveTeam('7101', 'owner', '701')).toMatchObject({ status: 200 });
  });

  it('never takes the owner role from its last holder, who could then not grant it again', async () => {
    for (const call of [
      { method: 'DELETE', path: '/people/701' },
      { method: 'PUT', path: '/people/701', body: { role: 'revops_admin' } },
    ] as const)
      expect(await as('701', call)).toMatchObject({
        status: 409,
        body: { error: { details: { reason: 'last_owner' } } },
      });
    expect(await giveTeam('7101', 'owner')).toMatchObject({ status: 200 });
    expect(await as('701', { method: 'DELETE', path: '/people/701' })).toMatchObject({ status: 200 });
  });

  it('refuses a rep every settings change', async () => {
    for (const call of [
      { method: 'PUT', path: '/people/1001', body: { role: 'approver' } },
      { method: 'PUT', path: '/team-roles/7101', body: { role: 'approver' } },
      { method: 'POST', path: '/policies', body: { document: {} } },
      { method: 'GET', path: '/teams' },
    ] as const) {
      expect(await as('1001', call)).toMatchObject({
        status: 403,
        body: { error: { details: { reason: 'role_not_allowed' } } },
      });
    }
    expect((await api(harness, 'GET', '/v1/admin/people', { token: ws.adminToken })).body.people).toContainEqual(
      expect.objectContaining({ crmUserId: '1001', role: 'rep' }),
    );
  });
});
