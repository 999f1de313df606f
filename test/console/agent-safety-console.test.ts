import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setKillSwitch, TRIGGER_ACTOR } from '../../server/src/services/governance/index.ts';
import { consoleCall, signInPeople } from '../support/console.ts';
import { seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let cookies: Record<string, string>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness);
  const roles = { '1': 'owner', '2': 'revops_admin', '501': 'approver' } as const;
  cookies = await signInPeople(harness, ws.workspaceId, roles);
});
afterEach(() => harness.close());

const as = async (crmUserId: string, method: string, path: string, body?: unknown) => {
  const response = await consoleCall(harness, cookies[crmUserId]!, method, path, body);
  return { status: response.status, body: (await response.json()) as any };
};
const evidence = { source: 'apollo', reason: 'profile says so', confidence: 0.9 };
const phoneCase = {
  kind: 'change',
  name: 'phone needs a person',
  objectType: 'contacts',
  change: { recordId: '1', properties: { phone: '+1 555 0100' }, evidence },
  expected: { tier: 'approval' },
};

describe('console agents screen: regression sets and safe re-enable', () => {
  it('When admins keep an agent’s cases and release it from a trigger, then only an owner may force past a failing set, and an approver only reads', async () => {
    const agentId = ws.agents[0]!.id;
    const put = (who: string, cases: unknown[]) =>
      as(who, 'PUT', `/console/api/agents/${agentId}/regression-set`, { cases });
    expect((await put('501', [phoneCase])).status).toBe(403);
    expect(
      (await put('2', [phoneCase, { ...phoneCase, name: 'phone goes through', expected: { tier: 'auto' } }])).status,
    ).toBe(200);
    expect((await as('501', 'GET', `/console/api/agents/${agentId}/regression-set`)).body.cases).toHaveLength(2);
    const run = await as('501', 'POST', `/console/api/agents/${agentId}/regression-runs`);
    expect(run.body).toMatchObject({ passed: false, failures: [expect.stringContaining('phone goes through')] });

    await setKillSwitch(
      harness.deps,
      ws.workspaceId,
      { scope: 'agent', target: agentId, engaged: true, reason: 'Kill trigger write_velocity' },
      TRIGGER_ACTOR,
    );
    const release = (who: string, force: boolean) =>
      as(who, 'PUT', '/console/api/kill-switches', {
        scope: 'agent',
        target: agentId,
        engaged: false,
        reason: 'ok',
        force,
      });
    expect((await release('2', false)).body.error.code).toBe('REGRESSION_FAILED');
    expect((await release('2', true)).body.error.code).toBe('FORBIDDEN');
    expect((await release('1', true)).status).toBe(200);
    expect((await as('501', 'GET', `/console/api/agents/${agentId}/safety`)).body).toMatchObject({
      inSafeMode: true,
      holds: ['safe_mode'],
      regressionCases: 2,
    });
    const noPrompt = await as('2', 'POST', `/console/api/agents/${agentId}/change-acceptances`, {
      gate: 'prompt',
      reason: 'x',
    });
    expect(noPrompt.status).toBe(409);
  });
});
