import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setKillSwitch, TRIGGER_ACTOR } from '../../server/src/services/governance/index.ts';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { startHarness, type Harness } from '../support/harness.ts';

/**
 * The settings page's agent safety, regression sets and retention through the HubSpot app
 * (issues 19 and 21): the console's routes under /v1/extension, with the same permissions, the
 * person signed by HubSpot as the actor.
 */

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedAppWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedAppWorkspace(harness, { '701': 'owner', '702': 'revops_admin', '501': 'approver', '1001': 'rep' });
});
afterEach(() => harness.close());

const as = (userId: string, call: { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; body?: unknown }) =>
  callAsHubSpot(harness, { ...call, portalId: ws.portalId, userId, clientSecret: ws.clientSecret });
const evidence = { source: 'apollo', reason: 'profile says so', confidence: 0.9 };
const phoneCase = {
  kind: 'change',
  name: 'phone needs a person',
  objectType: 'contacts',
  change: { recordId: '1', properties: { phone: '+1 555 0100' }, evidence },
  expected: { tier: 'approval' },
};

describe('agent safety from the settings page', () => {
  it('keeps an agent’s cases, runs them, and releases it from a trigger past a failing set only when an owner forces it', async () => {
    const agentId = ws.agent.id;
    const set = `/agents/${agentId}/regression-set`;
    const failing = { ...phoneCase, name: 'phone goes through', expected: { tier: 'auto' } };
    expect(await as('501', { method: 'PUT', path: set, body: { cases: [phoneCase] } })).toMatchObject({
      status: 403,
      body: { error: { code: 'FORBIDDEN' } },
    });
    expect((await as('702', { method: 'PUT', path: set, body: { cases: [phoneCase, failing] } })).status).toBe(200);
    expect((await as('501', { path: set })).body.cases).toHaveLength(2);
    expect((await as('501', { method: 'POST', path: `/agents/${agentId}/regression-runs` })).body).toMatchObject({
      passed: false,
      failures: [expect.stringContaining('phone goes through')],
    });

    await setKillSwitch(
      harness.deps,
      ws.workspaceId,
      { scope: 'agent', target: agentId, engaged: true, reason: 'Kill trigger write_velocity' },
      TRIGGER_ACTOR,
    );
    const release = (who: string, force: boolean) =>
      as(who, {
        method: 'PUT',
        path: '/kill-switches',
        body: { scope: 'agent', target: agentId, engaged: false, reason: 'checked', force },
      });
    expect((await release('702', false)).body.error.code).toBe('REGRESSION_FAILED');
    expect((await release('702', true)).body.error.code).toBe('FORBIDDEN');
    expect((await release('701', true)).status).toBe(200);
    expect((await as('501', { path: `/agents/${agentId}/safety` })).body).toMatchObject({
      inSafeMode: true,
      holds: ['safe_mode'],
      regressionCases: 2,
    });
    expect(
      await as('702', {
        method: 'POST',
        path: `/agents/${agentId}/change-acceptances`,
        body: { gate: 'prompt', reason: 'new prompt reviewed' },
      }),
    ).toMatchObject({ status: 409 });
    expect((await as('1001', { path: `/agents/${agentId}/safety` })).status).toBe(403);
  });
});

describe('retention from the settings page', () => {
  it('lets those who publish the policy set the periods, and others read them', async () => {
    expect((await as('501', { path: '/retention' })).body).toMatchObject({
      periods: { changeRecordsDays: null, draftsDays: null },
      nextRunAt: null,
    });
    const periods = { changeRecordsDays: 90, draftsDays: 30, webhookPayloadsDays: null, auditPersonalDataDays: 365 };
    expect(await as('501', { method: 'PUT', path: '/retention', body: periods })).toMatchObject({ status: 403 });
    expect(await as('702', { method: 'PUT', path: '/retention', body: { ...periods, draftsDays: 0 } })).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED' } },
    });
    expect(await as('702', { method: 'PUT', path: '/retention', body: periods })).toMatchObject({
      status: 200,
      body: { periods },
    });
    expect((await as('501', { path: '/retention' })).body.periods).toEqual(periods);
  });
});
