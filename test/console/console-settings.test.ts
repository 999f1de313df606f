import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OverviewView, PolicyVersionView } from '../../shared/console-settings-api.ts';
import type { SettingsView } from '../../shared/extension-api.ts';
import type { Policy } from '../../shared/policy.ts';
import type { RetentionView } from '../../shared/retention-api.ts';
import { regressionFailures } from '../../shared/views/agents.ts';
import { settingsControls } from '../../shared/views/decision-controls.ts';
import { withTier } from '../../shared/views/policy-matrix.ts';
import { recordMatchText, segmentConditionFrom } from '../../shared/views/policy-rules.ts';
import {
  bootstrapWorkspace,
  publishPolicy,
  setKillSwitch,
  TRIGGER_ACTOR,
} from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { EVIDENCE, proposeHeld, seedContact } from '../support/approvals.ts';
import { consoleCall, signInPeople } from '../support/console.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let cookies: Record<string, string>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  const roles = { '1': 'owner', '2': 'revops_admin', '501': 'approver', '1001': 'rep', '700': 'auditor' } as const;
  cookies = await signInPeople(harness, ws.workspaceId, roles);
});
afterEach(() => harness.close());

const as = (crmUserId: string, method: string, path: string, body?: unknown) =>
  consoleCall(harness, cookies[crmUserId]!, method, path, body);
const settingsOf = async (crmUserId: string) =>
  (await (await as(crmUserId, 'GET', '/console/api/settings')).json()) as SettingsView;
const moved = (policy: Policy, tier: 'auto' | 'approval') =>
  withTier(policy, { objectType: 'contacts', property: 'phone', role: 'enrichment', tier });

describe('console settings: the server enforces roles whatever the console shows', () => {
  it('When a rep, an approver or an auditor tries what only admins may, then each is refused 403 and nothing changes', async () => {
    expect((await as('1001', 'GET', '/console/api/settings')).status).toBe(403);
    expect((await as('501', 'GET', '/console/api/settings')).status).toBe(200);
    const { policy } = (await settingsOf('501')).policy!;
    const refusals = [
      ['501', 'POST', '/console/api/policies', { document: moved(policy, 'auto') }],
      ['700', 'POST', '/console/api/policies/1/restore', undefined],
      ['700', 'PUT', '/console/api/kill-switches', { scope: 'workspace', engaged: true, reason: 'drill' }],
      ['501', 'POST', '/console/api/agents', { name: 'sneaky', role: 'enrichment' }],
      ['501', 'POST', `/console/api/agents/${ws.agents[0]!.id}/pause`, undefined],
      ['700', 'PUT', '/console/api/people/1001', { role: 'owner' }],
      ['1001', 'GET', '/console/api/overview', undefined],
    ] as const;
    for (const [who, method, path, body] of refusals) {
      const response = await as(who, method, path, body);
      expect(response.status, `${who} ${method} ${path}`).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    }
    const after = await settingsOf('1');
    expect(after.history).toHaveLength(1);
    expect(after.killSwitches.filter((entry) => entry.engaged)).toEqual([]);
    expect(after.agents.map((agent) => [agent.name, agent.status])).toEqual([['enrichment-agent', 'active']]);
  });

  it('When a call that changes settings comes without the console header, then it is refused as cross-site', async () => {
    const response = await fetch(`${harness.url}/console/api/kill-switches`, {
      method: 'PUT',
      headers: { cookie: cookies['1']!, 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'workspace', engaged: true, reason: 'csrf' }),
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as any).error.details.reason).toBe('cross_site_request');
  });
});

describe('console settings: policy', () => {
  it('When an admin moves a property to auto and publishes, then a new version is in force, both versions read back for the diff, and the next write applies', async () => {
    const { policy } = (await settingsOf('2')).policy!;
    const published = await as('2', 'POST', '/console/api/policies', { document: moved(policy, 'auto') });
    expect(published.status).toBe(201);
    expect(await published.json()).toEqual({ version: 2 });

    const v1 = (await (await as('700', 'GET', '/console/api/policies/1')).json()) as PolicyVersionView;
    const v2 = (await (await as('700', 'GET', '/console/api/policies/2')).json()) as PolicyVersionView;
    expect(v1.policy.objects.contacts?.properties.phone).toEqual({ enrichment: 'approval' });
    expect(v2.policy.objects.contacts?.properties.phone).toEqual({ enrichment: 'auto' });
    expect(v2.publishedBy).toBe('person:hubspot-user:2');
    expect((await as('700', 'GET', '/console/api/policies/9')).status).toBe(404);
    expect((await as('700', 'GET', '/console/api/policies/zero')).status).toBe(400);

    const recordId = seedContact(harness);
    const write = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agents[0]!.token,
      body: {
        batchId: 'after-publish',
        objectType: 'contacts',
        changes: [{ recordId, properties: { phone: '+1 555 0100' }, evidence: EVIDENCE }],
      },
    });
    expect(write.status).toBe(201);
    expect(write.body.policyVersion).toBe(2);
    expect(write.body.results[0]).toMatchObject({ property: 'phone', decision: 'applied' });

    const restored = await as('2', 'POST', '/console/api/policies/1/restore');
    expect(restored.status).toBe(201);
    expect(await restored.json()).toEqual({ version: 3 });
    expect((await settingsOf('2')).policy?.policy.objects.contacts?.properties.phone).toEqual({
      enrichment: 'approval',
    });
  });

  it('When another admin published while one edited, then publishing the older draft is refused 409 and nothing is lost', async () => {
    const { policy, version } = (await settingsOf('2')).policy!;
    const first = await as('1', 'POST', '/console/api/policies', { document: moved(policy, 'auto'), basedOn: version });
    expect(first.status).toBe(201);
    const stale = { ...policy, description: 'Edited from the version before' };
    const refused = await as('2', 'POST', '/console/api/policies', { document: stale, basedOn: version });
    expect(refused.status).toBe(409);
    const error = ((await refused.json()) as any).error;
    expect(error.details).toEqual({ reason: 'policy_changed', basedOn: version, latest: version + 1 });
    expect(error.message).toContain(`Version ${version + 1} was published after version ${version}`);
    const now = (await settingsOf('2')).policy!;
    expect(now.version).toBe(version + 1);
    expect(now.policy.objects.contacts?.properties.phone).toEqual({ enrichment: 'auto' });
    expect(
      (
        await as('2', 'POST', '/console/api/policies', {
          document: { ...now.policy, description: 'Again' },
          basedOn: now.version,
        })
      ).status,
    ).toBe(201);
  });

  it('When a policy is invalid, then publishing answers 400 POLICY_INVALID with the schema’s sentences', async () => {
    const { policy } = (await settingsOf('1')).policy!;
    const response = await as('1', 'POST', '/console/api/policies', { document: { ...policy, timezone: 'Mars/Base' } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('POLICY_INVALID');
    expect(body.error.message).toMatch(/IANA time zone/);
  });

  it('When dual control holds a lowered tier, then the publish waits (409), the one who asked cannot confirm it, and a second admin’s confirmation publishes it', async () => {
    const guarded = { ...(EXAMPLE_POLICY as Policy), dualControl: { tierLowering: true, killSwitchRelease: false } };
    await publishPolicy(harness.deps, ws.workspaceId, guarded, ADMIN);
    const { policy } = (await settingsOf('2')).policy!;
    const held = await as('2', 'POST', '/console/api/policies', { document: moved(policy, 'auto') });
    expect(held.status).toBe(409);
    const { error } = (await held.json()) as { error: { code: string; details: { requestId: string } } };
    expect(error.code).toBe('SECOND_ADMIN_REQUIRED');
    const waiting = (await settingsOf('1')).governanceRequests;
    expect(waiting.map((request) => [request.id, request.requestedBy])).toEqual([
      [error.details.requestId, 'person:2'],
    ]);

    const own = await as('2', 'POST', `/console/api/governance-requests/${error.details.requestId}/confirm`);
    expect(own.status).toBe(403);
    expect(((await own.json()) as any).error.details.refusal).toBe('same_person');
    expect(
      (await as('501', 'POST', `/console/api/governance-requests/${error.details.requestId}/confirm`)).status,
    ).toBe(403);
    const confirmed = await as('1', 'POST', `/console/api/governance-requests/${error.details.requestId}/confirm`);
    expect(confirmed.status).toBe(200);
    const after = await settingsOf('1');
    expect(after.policy?.version).toBe(3);
    expect(after.policy?.policy.objects.contacts?.properties.phone).toEqual({ enrichment: 'auto' });
    expect(after.governanceRequests).toEqual([]);
  });
});

describe('console settings: agents, people and kill switches', () => {
  it('When an admin creates an agent, then its token is in that answer only; pause, delegation and revoke follow', async () => {
    const created = await as('2', 'POST', '/console/api/agents', { name: 'router', role: 'routing' });
    expect(created.status).toBe(201);
    const agent = (await created.json()) as { id: string; token: string };
    expect(agent.token).toMatch(/^agt_/);
    expect(JSON.stringify(await settingsOf('2'))).not.toContain(agent.token);
    expect((await as('2', 'POST', '/console/api/agents', { name: '', role: 'routing' })).status).toBe(400);

    const paused = await as('2', 'POST', `/console/api/agents/${agent.id}/pause`);
    expect(await paused.json()).toMatchObject({ id: agent.id, status: 'paused' });
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const delegation = await as('2', 'POST', `/console/api/agents/${agent.id}/delegations`, {
      crmUserId: '1001',
      expiresAt,
    });
    expect(delegation.status).toBe(201);
    expect(await delegation.json()).toMatchObject({ agentId: agent.id, crmUserId: '1001' });
    const live = (await (await as('700', 'GET', '/console/api/delegations')).json()) as {
      delegations: { id: string }[];
    };
    expect(live).toEqual({
      delegations: [{ id: expect.any(String), agentId: agent.id, crmUserId: '1001', expiresAt }],
    });
    expect((await as('1001', 'GET', '/console/api/delegations')).status).toBe(403);
    const delegationId = live.delegations[0]!.id;
    expect((await as('700', 'POST', `/console/api/delegations/${delegationId}/revoke`)).status).toBe(403);
    const ended = await as('2', 'POST', `/console/api/delegations/${delegationId}/revoke`);
    expect(await ended.json()).toMatchObject({ id: delegationId, crmUserId: '1001', revokedAt: expect.any(String) });
    expect(await (await as('700', 'GET', '/console/api/delegations')).json()).toEqual({ delegations: [] });
    const revoked = await as('2', 'POST', `/console/api/agents/${agent.id}/revoke`);
    expect(await revoked.json()).toMatchObject({ status: 'revoked' });
    expect((await as('2', 'POST', `/console/api/agents/${agent.id}/explode`)).status).toBe(400);
  });

  it('When an admin engages and releases the workspace kill switch, then writes stop and resume, audited as from the console', async () => {
    const engaged = await as('1', 'PUT', '/console/api/kill-switches', {
      scope: 'workspace',
      engaged: true,
      reason: 'Agents misbehaving',
    });
    expect(engaged.status).toBe(200);
    expect((await settingsOf('1')).killSwitches).toEqual([
      expect.objectContaining({ scope: 'workspace', engaged: true }),
    ]);
    const write = () =>
      api(harness, 'POST', '/v1/changesets', {
        token: ws.agents[0]!.token,
        body: {
          batchId: 'during-kill',
          objectType: 'contacts',
          changes: [{ recordId: seedContact(harness), properties: { jobtitle: 'CTO' }, evidence: EVIDENCE }],
        },
      });
    expect((await write()).status).toBe(423);
    await as('1', 'PUT', '/console/api/kill-switches', { scope: 'workspace', engaged: false, reason: 'Fixed' });
    expect((await write()).status).toBe(201);
    const events = await harness.deps.db.query.auditEvents.findMany({
      where: (event, { and, eq }) => and(eq(event.workspaceId, ws.workspaceId), eq(event.type, 'kill_switch.engaged')),
    });
    expect(events.map((event) => (event.actor as { via: string }).via)).toEqual(['console']);
  });

  it('When an admin gives and takes away roles, then only an owner grants the owner role', async () => {
    expect((await as('2', 'PUT', '/console/api/people/42', { role: 'approver' })).status).toBe(200);
    expect((await as('2', 'PUT', '/console/api/people/43', { role: 'owner' })).status).toBe(403);
    expect((await as('1', 'PUT', '/console/api/people/43', { role: 'owner' })).status).toBe(200);
    expect((await as('2', 'PUT', '/console/api/people/44', { role: 'wizard' })).status).toBe(400);
    expect((await as('2', 'PUT', '/console/api/team-roles/77', { role: 'rep' })).status).toBe(200);
    const access = (await settingsOf('1')).access;
    expect(access.people.map((person) => [person.crmUserId, person.role])).toEqual(
      expect.arrayContaining([
        ['42', 'approver'],
        ['43', 'owner'],
      ]),
    );
    expect(access.teamRoles.map((team) => [team.teamId, team.role])).toEqual([['77', 'rep']]);
    expect((await as('2', 'DELETE', '/console/api/people/42')).status).toBe(200);
    expect((await as('2', 'DELETE', '/console/api/team-roles/77')).status).toBe(200);
    expect((await settingsOf('1')).access.teamRoles).toEqual([]);
  });
});

describe('console settings: the last owner', () => {
  it('When the only owner demotes or removes themselves, then it is refused 409 and they stay owner; with a second owner it is allowed', async () => {
    for (const [method, body] of [
      ['PUT', { role: 'revops_admin' }],
      ['DELETE', undefined],
    ] as const) {
      const refused = await as('1', method, '/console/api/people/1', body);
      expect(refused.status, method).toBe(409);
      const error = ((await refused.json()) as any).error;
      expect(error.details.reason).toBe('last_owner');
      expect(error.message).toContain('give the owner role to someone else first');
    }
    expect((await settingsOf('1')).access.people).toContainEqual(
      expect.objectContaining({ crmUserId: '1', role: 'owner' }),
    );

    // An owner team counts as another owner, and an owner team may go while a person holds the role.
    expect((await as('1', 'PUT', '/console/api/team-roles/77', { role: 'owner' })).status).toBe(200);
    expect((await as('1', 'DELETE', '/console/api/team-roles/77')).status).toBe(200);
    expect((await as('1', 'PUT', '/console/api/team-roles/77', { role: 'owner' })).status).toBe(200);
    expect((await as('1', 'PUT', '/console/api/people/1', { role: 'revops_admin' })).status).toBe(200);
  });
});

describe('console settings: retention', () => {
  it('When an admin sets retention periods, then the API reads them back and the change is audited as theirs; others may only read them', async () => {
    const shown = await as('501', 'GET', '/console/api/retention');
    expect(shown.status).toBe(200);
    expect(((await shown.json()) as RetentionView).periods.draftsDays).toBeNull();
    const periods = { changeRecordsDays: 30, draftsDays: 90, webhookPayloadsDays: null, auditPersonalDataDays: 365 };
    for (const who of ['501', '700'])
      expect((await as(who, 'PUT', '/console/api/retention', periods)).status).toBe(403);
    expect((await as('1001', 'GET', '/console/api/retention')).status).toBe(403);
    const invalid = await as('2', 'PUT', '/console/api/retention', { ...periods, draftsDays: 0 });
    expect(invalid.status).toBe(400);

    const saved = await as('2', 'PUT', '/console/api/retention', periods);
    expect(saved.status).toBe(200);
    expect(((await saved.json()) as RetentionView).periods).toEqual(periods);
    const read = await api(harness, 'GET', '/v1/admin/retention', { token: ws.adminToken });
    expect(read.body.periods).toEqual(periods);
    const events = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'retention.configured')));
    expect(events).toEqual([
      expect.objectContaining({ actor: expect.objectContaining({ crmUserId: '2', via: 'console' }) }),
    ]);
  });
});

describe('console overview', () => {
  it('When agents wrote and people rejected, then the overview counts decisions per day, rejection rate, top properties and the kill trigger, for this workspace only', async () => {
    const guarded = {
      ...(EXAMPLE_POLICY as Policy),
      monitoring: { killTriggers: { rejectionRate: { threshold: 0.5, minDecided: 1 } } },
    };
    await publishPolicy(harness.deps, ws.workspaceId, guarded, ADMIN);
    const recordId = seedContact(harness);
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId,
      properties: { jobtitle: 'CTO', phone: '+1 555 0100', hs_email_optout: 'true' },
    });
    const rejected = await as('501', 'POST', `/console/api/approvals/${approvalId}/decisions`, {
      kind: 'reject',
      reason: 'Wrong number',
    });
    expect(rejected.status).toBe(200);
    // Another workspace's writes never show here.
    const other = await seedWorkspace(harness);
    await api(harness, 'POST', '/v1/changesets', {
      token: other.agents[0]!.token,
      body: {
        batchId: 'elsewhere',
        objectType: 'contacts',
        changes: [{ recordId: seedContact(harness), properties: { jobtitle: 'CEO' }, evidence: EVIDENCE }],
      },
    });

    const response = await as('700', 'GET', '/console/api/overview?days=7');
    expect(response.status).toBe(200);
    const overview = (await response.json()) as OverviewView;
    expect(overview.decisionsPerDay).toHaveLength(7);
    const today = overview.decisionsPerDay.at(-1)!;
    expect(today).toEqual({
      day: new Date().toISOString().slice(0, 10),
      applied: 1,
      pending_approval: 1,
      denied: 1,
      failed: 0,
    });
    expect(overview.agents).toEqual([
      expect.objectContaining({
        name: 'enrichment-agent',
        decided: 1,
        rejected: 1,
        rejectionRate: 1,
        qaErrorRate: null,
      }),
    ]);
    expect(overview.topProperties).toEqual([{ objectType: 'contacts', property: 'jobtitle', applied: 1 }]);
    expect(overview.bypassWritesPerDay.every((row) => row.count === 0)).toBe(true);
    expect(overview.killTriggerEvents).toEqual([expect.objectContaining({ scope: 'agent', target: ws.agents[0]!.id })]);
    expect((await as('700', 'GET', '/console/api/overview?days=365')).status).toBe(400);
  });
});

describe('console settings: kill switches as the HubSpot settings page sets them', () => {
  it('When an admin stops the records matching a condition, built as the Settings form builds it, then agents stop writing to those records only, until it is released', async () => {
    const condition = segmentConditionFrom({
      objectType: 'contacts',
      property: ' lifecyclestage ',
      op: 'in',
      operand: 'customer, evangelist',
    });
    expect(condition).toEqual({
      objectType: 'contacts',
      property: 'lifecyclestage',
      op: 'in',
      values: ['customer', 'evangelist'],
    });
    const engage = await as('2', 'PUT', '/console/api/kill-switches', {
      scope: 'segment',
      condition,
      engaged: true,
      reason: 'Customers are off limits this week',
    });
    expect(engage.status).toBe(200);
    const [row] = (await settingsOf('501')).killSwitches.filter((entry) => entry.scope === 'segment');
    expect(row).toMatchObject({ engaged: true, condition, reason: 'Customers are off limits this week' });
    expect(recordMatchText(row!.condition!)).toBe('contacts.lifecyclestage in customer | evangelist');

    const customer = seedContact(harness, { lifecyclestage: 'customer' });
    const lead = seedContact(harness, { lifecyclestage: 'lead' });
    const write = () =>
      api(harness, 'POST', '/v1/changesets', {
        token: ws.agents[0]!.token,
        body: {
          batchId: `segment-${Date.now()}`,
          objectType: 'contacts',
          changes: [customer, lead].map((recordId) => ({
            recordId,
            properties: { phone: '+1 555 0100' },
            evidence: EVIDENCE,
          })),
        },
      });
    const stopped = await write();
    const reasonsOf = (body: any, recordId: string) =>
      body.results.find((result: any) => result.recordId === recordId).reasons as string[];
    expect(reasonsOf(stopped.body, customer)).toContain('kill_switch_engaged');
    expect(reasonsOf(stopped.body, lead)).not.toContain('kill_switch_engaged');

    const release = await as('2', 'PUT', '/console/api/kill-switches', {
      scope: 'segment',
      target: row!.target,
      engaged: false,
      reason: 'Back to normal',
    });
    expect(release.status).toBe(200);
    expect(reasonsOf((await write()).body, customer)).not.toContain('kill_switch_engaged');
  });

  it('When a release of an agent a kill trigger stopped is refused for its failing regression set, then the console names the failures and offers the forced release to an owner only, which releases it', async () => {
    const agentId = ws.agents[0]!.id;
    const evidence = { source: 'apollo', reason: 'profile says so', confidence: 0.9 };
    const failing = {
      kind: 'change',
      name: 'phone goes through',
      objectType: 'contacts',
      change: { recordId: '1', properties: { phone: '+1 555 0100' }, evidence },
      expected: { tier: 'auto' },
    };
    expect((await as('2', 'PUT', `/console/api/agents/${agentId}/regression-set`, { cases: [failing] })).status).toBe(
      200,
    );
    await setKillSwitch(
      harness.deps,
      ws.workspaceId,
      { scope: 'agent', target: agentId, engaged: true, reason: 'Kill trigger write_velocity' },
      TRIGGER_ACTOR,
    );
    const release = { scope: 'agent', target: agentId, engaged: false, reason: 'Looked at it' };

    for (const who of ['2', '1']) {
      const refused = await as(who, 'PUT', '/console/api/kill-switches', release);
      expect(refused.status).toBe(409);
      const { error } = (await refused.json()) as { error: { code: string; details?: unknown } };
      // What the Settings section shows after the refusal: the failures, and the forced release for an owner only.
      expect(regressionFailures(error)).toEqual([expect.stringContaining('phone goes through')]);
      expect(settingsControls((await settingsOf(who)).caller.permissions).forceRelease).toBe(who === '1');
    }
    expect((await as('2', 'PUT', '/console/api/kill-switches', { ...release, force: true })).status).toBe(403);
    expect((await as('1', 'PUT', '/console/api/kill-switches', { ...release, force: true })).status).toBe(200);
    const agentSwitch = (await settingsOf('1')).killSwitches.find(
      (entry) => entry.scope === 'agent' && entry.target === agentId,
    );
    expect(agentSwitch).toMatchObject({ engaged: false });
  });
});
