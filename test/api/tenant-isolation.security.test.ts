import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../server/src/http/openapi.ts';
import { createAgent, publishPolicy } from '../../server/src/services/governance/index.ts';
import { allRowCounts } from '../support/row-counts.ts';
import { emailAction, submitAction, WEDNESDAY_MORNING_NY } from '../support/actions.ts';
import { proposeHeld, seedContact } from '../support/approvals.ts';
import { consoleCall, signInAs } from '../support/console.ts';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { ADMIN, api, EXAMPLE_POLICY, startHarness, type Harness } from '../support/harness.ts';
import { holdEntriesPolicy, proposeContact, proposeLink } from '../support/held-entries.ts';
import { seedContacts, submitTitles } from '../support/rollbacks.ts';

/*
 * An attacker holding one credential of workspace A (its agent's token, its admin token, an owner's
 * console session, an owner's signed HubSpot app request) and the ids of workspace B's rows: every
 * route that takes an id answers 404 NOT_FOUND, as for an id that never existed (no 403 that would
 * confirm it, no 200, no 500), and nothing of B's changes.
 */

type Credential = 'agent' | 'admin' | 'console' | 'app';
interface Probe {
  credential: Credential;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The route as declared, `{id}` where B's id goes. */
  route: string;
  /** Which of B's ids fills `{id}`. */
  of: keyof OtherIds;
  body?: unknown;
}

interface OtherIds {
  changeSet: string;
  change: string;
  approval: string;
  action: string;
  creation: string;
  association: string;
  rollback: string;
  agent: string;
  delegation: string;
  siemDestination: string;
  alertChannel: string;
  alertRule: string;
  qaReview: string;
  governanceRequest: string;
}

const TOMORROW = new Date(WEDNESDAY_MORNING_NY.getTime() + 86_400_000).toISOString();
const RELEASE_TOKEN = 'rel_not-this-workspaces-token';

const PROBES: Probe[] = [
  { credential: 'agent', method: 'GET', route: '/v1/changesets/{id}', of: 'changeSet' },
  { credential: 'agent', method: 'GET', route: '/v1/actions/{id}', of: 'action' },
  {
    credential: 'agent',
    method: 'POST',
    route: '/v1/actions/{id}/verify',
    of: 'action',
    body: { releaseToken: RELEASE_TOKEN },
  },
  {
    credential: 'agent',
    method: 'POST',
    route: '/v1/actions/{id}/outcome',
    of: 'action',
    body: { outcome: 'sent', releaseToken: RELEASE_TOKEN },
  },
  { credential: 'admin', method: 'GET', route: '/v1/admin/actions/{id}', of: 'action' },
  {
    credential: 'admin',
    method: 'POST',
    route: '/v1/admin/actions/{id}/decisions',
    of: 'action',
    body: { kind: 'approve', actingUserId: '501' },
  },
  { credential: 'admin', method: 'GET', route: '/v1/admin/approvals/{id}', of: 'approval' },
  {
    credential: 'admin',
    method: 'POST',
    route: '/v1/admin/approvals/{id}/decisions',
    of: 'approval',
    body: { kind: 'approve', actingUserId: '501' },
  },
  {
    credential: 'admin',
    method: 'POST',
    route: '/v1/admin/creations/{id}/decisions',
    of: 'creation',
    body: { kind: 'approve', actingUserId: '501' },
  },
  {
    credential: 'admin',
    method: 'POST',
    route: '/v1/admin/associations/{id}/decisions',
    of: 'association',
    body: { kind: 'approve', actingUserId: '501' },
  },
  {
    credential: 'admin',
    method: 'POST',
    route: '/v1/admin/agents/{id}/delegations',
    of: 'agent',
    body: { crmUserId: '501', expiresAt: TOMORROW },
  },
  { credential: 'admin', method: 'POST', route: '/v1/admin/delegations/{id}/revoke', of: 'delegation' },
  { credential: 'admin', method: 'GET', route: '/v1/admin/agents/{id}/regression-set', of: 'agent' },
  {
    credential: 'admin',
    method: 'PUT',
    route: '/v1/admin/agents/{id}/regression-set',
    of: 'agent',
    body: { cases: [] },
  },
  { credential: 'admin', method: 'POST', route: '/v1/admin/agents/{id}/regression-runs', of: 'agent' },
  { credential: 'admin', method: 'GET', route: '/v1/admin/agents/{id}/safety', of: 'agent' },
  {
    credential: 'admin',
    method: 'POST',
    route: '/v1/admin/agents/{id}/change-acceptances',
    of: 'agent',
    body: { gate: 'prompt', reason: 'taking it over' },
  },
  ...(['pause', 'resume', 'revoke'] as const).map(
    (action): Probe => ({ credential: 'admin', method: 'POST', route: `/v1/admin/agents/{id}/${action}`, of: 'agent' }),
  ),
  {
    credential: 'admin',
    method: 'POST',
    route: '/v1/admin/qa/reviews/{id}/verdict',
    of: 'qaReview',
    body: { actingUserId: '501', verdict: 'wrong' },
  },
  ...(['confirm', 'cancel'] as const).map(
    (decision): Probe => ({
      credential: 'admin',
      method: 'POST',
      route: `/v1/admin/governance-requests/{id}/${decision}`,
      of: 'governanceRequest',
      body: { actingUserId: '501' },
    }),
  ),
  ...(['pause', 'resume'] as const).map(
    (action): Probe => ({
      credential: 'admin',
      method: 'POST',
      route: `/v1/admin/rollbacks/{id}/${action}`,
      of: 'rollback',
    }),
  ),
  { credential: 'admin', method: 'DELETE', route: '/v1/admin/alert-channels/{id}', of: 'alertChannel' },
  { credential: 'admin', method: 'DELETE', route: '/v1/admin/alert-rules/{id}', of: 'alertRule' },
  { credential: 'admin', method: 'GET', route: '/v1/admin/rollbacks/{id}', of: 'rollback' },
  { credential: 'admin', method: 'GET', route: '/v1/admin/rollbacks/{id}/report', of: 'rollback' },
  { credential: 'admin', method: 'DELETE', route: '/v1/admin/siem-destinations/{id}', of: 'siemDestination' },
  {
    credential: 'console',
    method: 'POST',
    route: '/console/api/approvals/{id}/decisions',
    of: 'approval',
    body: { kind: 'approve' },
  },
  {
    credential: 'console',
    method: 'POST',
    route: '/console/api/drafts/{id}/decisions',
    of: 'action',
    body: { kind: 'approve' },
  },
  {
    credential: 'console',
    method: 'POST',
    route: '/console/api/creations/{id}/decisions',
    of: 'creation',
    body: { kind: 'approve' },
  },
  {
    credential: 'console',
    method: 'POST',
    route: '/console/api/associations/{id}/decisions',
    of: 'association',
    body: { kind: 'approve' },
  },
  { credential: 'console', method: 'GET', route: '/console/api/audit/drafts/{id}', of: 'action' },
  { credential: 'console', method: 'GET', route: '/console/api/rollbacks/{id}/events', of: 'rollback' },
  { credential: 'console', method: 'GET', route: '/console/api/rollbacks/{id}/report', of: 'rollback' },
  { credential: 'console', method: 'DELETE', route: '/console/api/siem-destinations/{id}', of: 'siemDestination' },
  { credential: 'console', method: 'DELETE', route: '/console/api/alert-channels/{id}', of: 'alertChannel' },
  { credential: 'console', method: 'DELETE', route: '/console/api/alert-rules/{id}', of: 'alertRule' },
  {
    credential: 'console',
    method: 'POST',
    route: '/console/api/agents/{id}/delegations',
    of: 'agent',
    body: { crmUserId: '501', expiresAt: TOMORROW },
  },
  { credential: 'console', method: 'POST', route: '/console/api/delegations/{id}/revoke', of: 'delegation' },
  { credential: 'console', method: 'GET', route: '/console/api/agents/{id}/safety', of: 'agent' },
  { credential: 'console', method: 'GET', route: '/console/api/agents/{id}/regression-set', of: 'agent' },
  {
    credential: 'console',
    method: 'PUT',
    route: '/console/api/agents/{id}/regression-set',
    of: 'agent',
    body: { cases: [] },
  },
  { credential: 'console', method: 'POST', route: '/console/api/agents/{id}/regression-runs', of: 'agent' },
  {
    credential: 'console',
    method: 'POST',
    route: '/console/api/agents/{id}/change-acceptances',
    of: 'agent',
    body: { gate: 'prompt', reason: 'taking it over' },
  },
  { credential: 'console', method: 'POST', route: '/console/api/agents/{id}/revoke', of: 'agent' },
  {
    credential: 'console',
    method: 'POST',
    route: '/console/api/governance-requests/{id}/confirm',
    of: 'governanceRequest',
  },
  { credential: 'app', method: 'POST', route: '/approvals/{id}/decisions', of: 'approval', body: { kind: 'approve' } },
  { credential: 'app', method: 'POST', route: '/drafts/{id}/decisions', of: 'action', body: { kind: 'approve' } },
  { credential: 'app', method: 'POST', route: '/creations/{id}/decisions', of: 'creation', body: { kind: 'approve' } },
  {
    credential: 'app',
    method: 'POST',
    route: '/associations/{id}/decisions',
    of: 'association',
    body: { kind: 'approve' },
  },
  { credential: 'app', method: 'GET', route: '/rollbacks/{id}', of: 'rollback' },
  { credential: 'app', method: 'GET', route: '/agents/{id}/safety', of: 'agent' },
  { credential: 'app', method: 'GET', route: '/agents/{id}/regression-set', of: 'agent' },
  { credential: 'app', method: 'PUT', route: '/agents/{id}/regression-set', of: 'agent', body: { cases: [] } },
  { credential: 'app', method: 'POST', route: '/agents/{id}/regression-runs', of: 'agent' },
  {
    credential: 'app',
    method: 'POST',
    route: '/agents/{id}/change-acceptances',
    of: 'agent',
    body: { gate: 'prompt', reason: 'taking it over' },
  },
  { credential: 'app', method: 'POST', route: '/agents/{id}/revoke', of: 'agent' },
  { credential: 'app', method: 'POST', route: '/governance-requests/{id}/confirm', of: 'governanceRequest' },
];

let harness: Harness;
let a: Awaited<ReturnType<typeof seedAppWorkspace>>;
let ownerSession: string;
let theirs: OtherIds;

beforeAll(async () => {
  harness = await startHarness({ clock: () => WEDNESDAY_MORNING_NY });
  a = await seedAppWorkspace(harness, { '501': 'owner' });
  ownerSession = await signInAs(harness, a.workspaceId, '501');
  theirs = await workspaceWithOneOfEach();
  // A missing id would answer 404 too, and prove nothing.
  for (const id of Object.values(theirs))
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
});
afterAll(() => harness.close());

/** Workspace B with one row of each kind an id names: an applied change set, held approval, creation, link and draft, and the rest. */
async function workspaceWithOneOfEach(): Promise<OtherIds> {
  const b = await seedAppWorkspace(harness, { '601': 'owner', '602': 'approver' });
  const outreach = await createAgent(harness.deps, b.workspaceId, { name: 'outreach', role: 'outreach' }, ADMIN);
  const prospecting = await createAgent(harness.deps, b.workspaceId, { name: 'prospect', role: 'prospecting' }, ADMIN);
  const admin = (method: string, path: string, body: unknown) =>
    api(harness, method, path, { token: b.adminToken, body }).then((res) => {
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      return res.body as { id: string };
    });
  const contact = seedContact(harness);
  const approval = await proposeHeld(harness, {
    token: b.agent.token,
    adminToken: b.adminToken,
    recordId: contact,
    properties: { phone: '+1 555 0100' },
  });
  await holdEntriesPolicy(harness, b.workspaceId);
  const link = await proposeLink(harness, prospecting.token);
  const created = await proposeContact(harness, prospecting.token, { email: 'x@acme.com', firstname: 'X' });
  // Every auto write sampled for QA, and erasures waiting for a second admin.
  await publishPolicy(
    harness.deps,
    b.workspaceId,
    {
      ...(EXAMPLE_POLICY as object),
      qa: { sampling: { enrichment: { rate: 1 } } },
      dualControl: { killSwitchRelease: false, tierLowering: false, erasure: true },
    },
    ADMIN,
  );
  const [titled] = seedContacts(harness, ['Engineer']);
  const changeSet = await submitTitles(harness, b.agent.token, 'b-batch', { [titled!]: 'CTO' });
  const qaReviews = await api(harness, 'GET', '/v1/admin/qa/reviews', { token: b.adminToken });
  const governanceRequest = await admin('POST', '/v1/admin/erasures', {
    email: 'ada@example.com',
    actingUserId: '601',
  });
  const action = await submitAction(harness, outreach.token, emailAction(contact));
  expect(action.status).toBe(201);
  const rollback = await admin('POST', '/v1/admin/rollbacks', { selector: { batchId: 'b-batch' } });
  const delegation = await admin('POST', `/v1/admin/agents/${b.agent.id}/delegations`, {
    crmUserId: '602',
    expiresAt: TOMORROW,
  });
  const siemDestination = await admin('POST', '/v1/admin/siem-destinations', {
    name: 'b-siem',
    kind: 'otlp',
    url: 'https://otel.example.com/v1/logs',
  });
  const alertChannel = await admin('POST', '/v1/admin/alert-channels', {
    name: 'b-slack',
    kind: 'slack',
    url: 'https://hooks.slack.com/services/b',
  });
  const alertRule = await admin('POST', '/v1/admin/alert-rules', {
    name: 'b-switches',
    kind: 'kill_switch_engaged',
    channels: ['b-slack'],
  });
  return {
    changeSet: changeSet.id,
    change: changeSet.results[0]!.changeId,
    approval,
    action: action.body.id,
    creation: created.result.changeId,
    association: link.result.changeId,
    rollback: rollback.id,
    agent: b.agent.id,
    delegation: delegation.id,
    siemDestination: siemDestination.id,
    alertChannel: alertChannel.id,
    alertRule: alertRule.id,
    qaReview: qaReviews.body.reviews[0].id,
    governanceRequest: governanceRequest.id,
  };
}

async function call(probe: Probe): Promise<{ status: number; body: { error?: { code: string } } }> {
  const path = probe.route.replace('{id}', theirs[probe.of]);
  switch (probe.credential) {
    case 'agent':
    case 'admin':
      return api(harness, probe.method, path, {
        token: probe.credential === 'agent' ? a.agent.token : a.adminToken,
        body: probe.body,
      });
    case 'console': {
      const res = await consoleCall(harness, ownerSession, probe.method, path, probe.body);
      return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
    }
    case 'app':
      return callAsHubSpot(harness, {
        method: probe.method,
        path,
        body: probe.body,
        portalId: a.portalId,
        userId: '501',
        clientSecret: a.clientSecret,
        timestamp: WEDNESDAY_MORNING_NY.getTime(),
      });
  }
}

describe('one credential of workspace A against the ids of workspace B', () => {
  it('probes every REST route whose path takes an id', () => {
    const probed = new Set(PROBES.filter((p) => p.route.startsWith('/v1/')).map((p) => `${p.method} ${p.route}`));
    const withIds = apiRoutes
      .filter((route) => route.path.includes('{id}'))
      .map((route) => `${route.method.toUpperCase()} ${route.path}`);
    expect(withIds.filter((route) => !probed.has(route))).toEqual([]);
  });

  it.each(PROBES.map((probe) => [`${probe.credential}: ${probe.method} ${probe.route}`, probe] as const))(
    '%s answers 404 NOT_FOUND and changes nothing',
    async (_name, probe) => {
      const before = await allRowCounts(harness.database.db);
      const res = await call(probe);
      expect(res.status, JSON.stringify(res.body)).toBe(404);
      expect(res.body.error?.code).toBe('NOT_FOUND');
      expect(await allRowCounts(harness.database.db)).toEqual(before);
    },
  );

  it('rolls back nothing of B when A names B’s change or agent', async () => {
    for (const selector of [{ changeIds: [theirs.change] }, { agentId: theirs.agent }]) {
      const res = await api(harness, 'POST', '/v1/admin/rollbacks', { token: a.adminToken, body: { selector } });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });
});
