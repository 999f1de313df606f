import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  bootstrapWorkspace,
  publishPolicy,
  setKillSwitch,
  TRIGGER_ACTOR,
} from '../../server/src/services/governance/index.ts';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { decide, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, EXAMPLE_POLICY, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

const HOUR = 3_600_000;
let now: Date;
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let agentId: string;
let token: string;

beforeEach(async () => {
  now = new Date('2026-12-01T15:00:00Z');
  harness = await startHarness({ clock: () => now });
  ws = await seedWorkspace(harness, ['enrichment']);
  agentId = ws.agents[0]!.id;
  token = ws.agents[0]!.token;
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
});
afterEach(() => harness.close());

const base = EXAMPLE_POLICY as { objects: { contacts: { properties: Record<string, unknown> } }; caps: object };
/** The example policy with contact properties' tiers and other top-level settings changed. */
function policy(tiers: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    ...base,
    objects: { ...base.objects, contacts: { properties: { ...base.objects.contacts.properties, ...tiers } } },
    ...extra,
  };
}
const publish = (document: unknown) => publishPolicy(harness.deps, ws.workspaceId, document, ADMIN);

const evidence = { source: 'apollo', reason: 'profile says so', confidence: 0.9 };
async function submit(properties: Record<string, string>, count = 1, extraEvidence: Record<string, string> = {}) {
  const ids = Array.from({ length: count }, (_, i) =>
    seedRecord(harness.hubspot.state, 'contacts', { properties: { email: `c${Math.random()}-${i}@example.com` } }),
  );
  const res = await api(harness, 'POST', '/v1/changesets', {
    token,
    body: {
      batchId: 'b',
      objectType: 'contacts',
      changes: ids.map((recordId) => ({ recordId, properties, evidence: { ...evidence, ...extraEvidence } })),
    },
  });
  expect(res.status).toBe(201);
  return res.body.results as { decision: string; reasons: string[] }[];
}

const industryNeedsApproval = {
  kind: 'change',
  name: 'industry needs a person',
  objectType: 'contacts',
  change: { recordId: '1', properties: { industry: 'Crypto' }, evidence },
  expected: { tier: 'approval', reasons: ['tier_approval'] },
};
const putSet = (cases: unknown[]) =>
  api(harness, 'PUT', `/v1/admin/agents/${agentId}/regression-set`, { token: ws.adminToken, body: { cases } });
const release = (body: Record<string, unknown> = {}) =>
  api(harness, 'PUT', '/v1/admin/kill-switches', {
    token: ws.adminToken,
    body: { scope: 'agent', target: agentId, engaged: false, reason: 'fixed the prompt', ...body },
  });
const triggerStops = () =>
  setKillSwitch(
    harness.deps,
    ws.workspaceId,
    { scope: 'agent', target: agentId, engaged: true, reason: 'Kill trigger rejection_rate: 8 of 10' },
    TRIGGER_ACTOR,
  );
const safety = async () =>
  (await api(harness, 'GET', `/v1/admin/agents/${agentId}/safety`, { token: ws.adminToken })).body;
const auditOf = (type: string) =>
  harness.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, type)));

describe('safe re-enable after a kill trigger', () => {
  it('refuses the release while a case fails, naming it, and allows it once the policy is fixed', async () => {
    expect((await putSet([industryNeedsApproval])).status).toBe(200);
    await triggerStops();

    const refused = await release();
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('REGRESSION_FAILED');
    expect(refused.body.error.details.failures).toEqual([
      expect.stringContaining('Case "industry needs a person" expected approval'),
    ]);
    const stillStopped = await api(harness, 'POST', '/v1/changesets', {
      token,
      body: { batchId: 'b', objectType: 'contacts', changes: [{ recordId: '1', properties: { city: 'X' }, evidence }] },
    });
    expect(stillStopped.status).toBe(423);

    await publish(policy({ industry: { enrichment: 'approval' } }));
    const run = await api(harness, 'POST', `/v1/admin/agents/${agentId}/regression-runs`, { token: ws.adminToken });
    expect(run.body).toMatchObject({
      passed: true,
      failures: [],
      cases: [{ name: 'industry needs a person', passed: true }],
    });
    const released = await release();
    expect(released.status).toBe(200);
    expect(released.body.engaged).toBe(false);
    const [event] = await auditOf('kill_switch.released');
    expect(event!.data).toMatchObject({
      regression: { passed: true },
      forced: false,
      safeModeUntil: new Date(now.getTime() + 48 * HOUR).toISOString(),
    });
  });

  it('refuses an empty set, lets no one but an owner force a failing release, and audits the forcing', async () => {
    await triggerStops();
    const refused = await release();
    expect(refused.body.error.details.failures).toEqual([expect.stringContaining('no cases')]);

    const revopsAdmin = { type: 'person', name: 'ra', crmUserId: '77', role: 'revops_admin', via: 'console' } as const;
    await expect(
      setKillSwitch(
        harness.deps,
        ws.workspaceId,
        { scope: 'agent', target: agentId, engaged: false, reason: 'trust me', force: true },
        revopsAdmin,
      ),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });

    expect((await release({ force: true })).status).toBe(200);
    const [event] = await auditOf('kill_switch.released');
    expect(event!.data).toMatchObject({ forced: true, regression: { passed: false, failures: [expect.any(String)] } });
  });

  it('a switch engaged by hand is released as before, with no regression run and no safe mode', async () => {
    await setKillSwitch(
      harness.deps,
      ws.workspaceId,
      { scope: 'agent', target: agentId, engaged: true, reason: 'by hand' },
      ADMIN,
    );
    expect((await release()).status).toBe(200);
    expect(await safety()).toMatchObject({ inSafeMode: false, safeModeUntil: null, holds: [] });
  });

  it('fails the run on a write people rejected that the policy in force would now apply without asking', async () => {
    await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token,
      adminToken: ws.adminToken,
      recordId,
      properties: { phone: '+1 555 0199' },
    });
    await decide(harness, ws.adminToken, approvalId, { kind: 'reject', actingUserId: '501', reason: 'switchboard' });
    await putSet([industryNeedsApproval]);
    await publish(policy({ industry: { enrichment: 'approval' }, phone: { enrichment: 'auto' } }));

    const run = await api(harness, 'POST', `/v1/admin/agents/${agentId}/regression-runs`, { token: ws.adminToken });
    expect(run.body).toMatchObject({
      passed: false,
      recent: { lookbackHours: 24, replayed: 1, failures: [{ recordId, property: 'phone', actual: { tier: 'auto' } }] },
    });

    await publish(policy({ industry: { enrichment: 'approval' } }));
    const fixed = await api(harness, 'POST', `/v1/admin/agents/${agentId}/regression-runs`, { token: ws.adminToken });
    expect(fixed.body).toMatchObject({ passed: true, recent: { replayed: 1, failures: [] } });
  });
});

describe('safe mode', () => {
  it('holds every auto write for approval with reason safe_mode, lowers the caps, and ends by itself at the deadline', async () => {
    await publish(policy({}, { caps: { writesPerAgentPerDay: 4 }, agentSafety: { safeModeCapFactor: 0.5 } }));
    await putSet([{ ...industryNeedsApproval, expected: { tier: 'auto', reasons: ['tier_auto'] } }]);
    await triggerStops();
    expect((await release()).status).toBe(200);

    const results = await submit({ jobtitle: 'CTO' }, 3);
    expect(results.map((r) => r.decision)).toEqual(['pending_approval', 'pending_approval', 'denied']);
    expect(results[0]!.reasons).toEqual(['tier_auto', 'safe_mode']);
    expect(results[2]!.reasons).toContain('cap_agent_daily_writes_reached');
    expect(await safety()).toMatchObject({ inSafeMode: true, holds: ['safe_mode'] });

    now = new Date(now.getTime() + 48 * HOUR);
    const after = await submit({ jobtitle: 'CTO' }, 4);
    expect(after.map((r) => r.decision)).toEqual(['applied', 'applied', 'applied', 'applied']);
    expect(after[0]!.reasons).toEqual(['tier_auto']);
    expect(await safety()).toMatchObject({ inSafeMode: false, holds: [] });
  });
});

describe('gates on change', () => {
  it('holds the agent’s auto writes once its prompt hash changes, until a person accepts the new one', async () => {
    expect((await submit({ jobtitle: 'CTO' }, 1, { promptHash: 'p1' }))[0]!.decision).toBe('applied');

    const held = await submit({ jobtitle: 'CTO' }, 1, { promptHash: 'p2' });
    expect(held[0]).toMatchObject({ decision: 'pending_approval', reasons: ['tier_auto', 'prompt_changed'] });
    expect((await submit({ jobtitle: 'CTO' }, 1, { promptHash: 'p1' }))[0]!.decision).toBe('pending_approval');
    expect(await safety()).toMatchObject({
      acceptedPromptHash: 'p1',
      pendingPromptHash: 'p2',
      holds: ['prompt_changed'],
    });

    const accepted = await api(harness, 'POST', `/v1/admin/agents/${agentId}/change-acceptances`, {
      token: ws.adminToken,
      body: { gate: 'prompt', reason: 'reviewed the new prompt' },
    });
    expect(accepted.body).toMatchObject({ acceptedPromptHash: 'p2', pendingPromptHash: null, holds: [] });
    expect((await submit({ jobtitle: 'CTO' }, 1, { promptHash: 'p2' }))[0]!.decision).toBe('applied');
    expect(await auditOf('agent.prompt_changed')).toHaveLength(1);
    expect((await auditOf('agent.change_accepted'))[0]!.data).toMatchObject({
      gate: 'prompt',
      reason: 'reviewed the new prompt',
    });

    const again = await api(harness, 'POST', `/v1/admin/agents/${agentId}/change-acceptances`, {
      token: ws.adminToken,
      body: { gate: 'prompt', reason: 'again' },
    });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
  });

  it('holds the agent’s auto writes when its daily volume jumps past its trailing average, until a person accepts it', async () => {
    await publish(policy({}, { agentSafety: { volumeJump: { share: 1, trailingDays: 2, minDaily: 3 } } }));
    now = new Date(now.getTime() - 48 * HOUR);
    await submit({ jobtitle: 'CTO' }, 2);
    now = new Date(now.getTime() + 24 * HOUR);
    await submit({ jobtitle: 'CTO' }, 2);
    now = new Date(now.getTime() + 24 * HOUR);

    // Trailing average 2: up to 4 a day is no jump.
    expect((await submit({ jobtitle: 'CTO' }, 4)).map((r) => r.decision)).toEqual(Array(4).fill('applied'));
    const jumped = await submit({ jobtitle: 'CTO' }, 1);
    expect(jumped[0]).toMatchObject({ decision: 'pending_approval', reasons: ['tier_auto', 'volume_jump'] });
    expect(await safety()).toMatchObject({
      volume: { today: 5, trailingAverage: 2, jumped: true, acceptedToday: false },
      holds: ['volume_jump'],
    });

    await api(harness, 'POST', `/v1/admin/agents/${agentId}/change-acceptances`, {
      token: ws.adminToken,
      body: { gate: 'volume', reason: 'new territory assigned' },
    });
    expect((await submit({ jobtitle: 'CTO' }, 1))[0]!.decision).toBe('applied');
  });
});
