import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { whatMayIChange } from '../../server/src/services/agent-tools/index.ts';
import { authenticateAgent } from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { EMAIL_EVIDENCE, emailAction, publishActionTiers, submitAction, testClock } from '../support/actions.ts';
import { seedContact } from '../support/approvals.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let clock: ReturnType<typeof testClock>;
/** While set, the CRM adapter's waits between retries hang until the test lets them go. */
let holdWaits: (() => void)[] | undefined;

beforeEach(async () => {
  clock = testClock();
  holdWaits = undefined;
  harness = await startHarness({
    clock: clock.now,
    sleep: (ms) => new Promise((resolve) => (holdWaits ? holdWaits.push(() => resolve()) : setTimeout(resolve, ms))),
  });
  ws = await seedWorkspace(harness, ['outreach', 'outreach']);
});
afterEach(() => {
  // A test that failed while holding waits lets them go, so its requests end before the server closes.
  for (const release of holdWaits ?? []) release();
  return harness.close();
});

/** An email to its own contact (so no frequency cap meets another), reporting what finding it cost. */
function costlyEmail(index: number, cost?: { amount: number; currency: string }) {
  const email = `person${index}@example${index}.com`;
  const contactId = seedContact(harness, { email });
  return emailAction(contactId, { to: email, evidence: { ...EMAIL_EVIDENCE, ...(cost ? { cost } : {}) } });
}

async function budgetEvents() {
  return harness.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'agent.budget_reached')));
}

async function budgetsSeenBy(token: string) {
  return (await whatMayIChange(harness.deps, await authenticateAgent(harness.deps, token))).budgets;
}

describe('the CRM call budget per agent', () => {
  it('counts the CRM calls made for an agent and refuses it once its budget is used up, not another agent', async () => {
    await publishActionTiers(
      harness,
      ws.workspaceId,
      { send_email: { outreach: 'auto' } },
      {
        budgets: { crmCallsPerAgentPerDay: 2 },
      },
    );
    const [first, second] = ws.agents;
    expect((await submitAction(harness, first!.token, costlyEmail(1))).body.status).toBe('released');
    expect(await budgetsSeenBy(first!.token)).toEqual([{ name: 'crmCallsPerAgentPerDay', limit: 2, used: 1, left: 1 }]);
    expect((await submitAction(harness, first!.token, costlyEmail(2))).body.status).toBe('released');

    const refused = await submitAction(harness, first!.token, costlyEmail(3));
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({
      code: 'BUDGET_REACHED',
      details: { reason: 'budget_agent_crm_calls_reached', budget: 'crmCallsPerAgentPerDay', limit: 2, used: 2 },
    });
    expect((await submitAction(harness, second!.token, costlyEmail(4))).body.status).toBe('released');
    const events = await budgetEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ agentId: first!.id, reasons: ['budget_agent_crm_calls_reached'] });

    clock.advanceHours(24);
    expect((await submitAction(harness, first!.token, costlyEmail(5))).body.status).toBe('released');
  });

  it('refuses a request that starts once the budget is used up while the request that used it up still runs', async () => {
    await publishActionTiers(
      harness,
      ws.workspaceId,
      { send_email: { outreach: 'auto' } },
      {
        budgets: { crmCallsPerAgentPerDay: 1 },
      },
    );
    const token = ws.agents[0]!.token;
    const held: (() => void)[] = [];
    holdWaits = held;
    // The first request's first call is throttled, and its retry waits until we let it go.
    harness.hubspot.faults.failNext(1, { status: 429 });
    const first = submitAction(harness, token, costlyEmail(1));
    await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 30_000 });

    const refused = await submitAction(harness, token, costlyEmail(2));
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'BUDGET_REACHED', details: { limit: 1, used: 1 } });
    holdWaits = undefined;
    held[0]!();
    // The request already running finishes: its retry is the overshoot the budget allows.
    expect((await first).body.status).toBe('released');
    expect(await budgetsSeenBy(token)).toEqual([{ name: 'crmCallsPerAgentPerDay', limit: 1, used: 2, left: 0 }]);
  });
});

describe('the spend budget per workspace', () => {
  beforeEach(() =>
    publishActionTiers(
      harness,
      ws.workspaceId,
      { send_email: { outreach: 'auto' } },
      {
        budgets: { spendPerWorkspacePerDay: { amount: 0.05, currency: 'USD' } },
      },
    ),
  );

  it('adds up every agent’s reported cost and refuses a cost that does not fit what is left', async () => {
    const [first, second] = ws.agents;
    const usd = (amount: number) => ({ amount, currency: 'USD' });
    expect((await submitAction(harness, first!.token, costlyEmail(1, usd(0.03)))).body.status).toBe('released');
    expect(await budgetsSeenBy(second!.token)).toEqual([
      { name: 'spendPerWorkspacePerDay', limit: 0.05, used: 0.03, left: expect.closeTo(0.02, 6), currency: 'USD' },
    ]);
    const tooDear = await submitAction(harness, second!.token, costlyEmail(2, usd(0.03)));
    expect(tooDear.status).toBe(429);
    expect(tooDear.body.error.details).toMatchObject({ reason: 'budget_workspace_spend_reached', used: 0.03 });
    expect((await submitAction(harness, second!.token, costlyEmail(2, usd(0.02)))).body.status).toBe('released');
    for (const agent of [first!, second!]) {
      const refused = await submitAction(harness, agent.token, costlyEmail(3, usd(0.01)));
      expect(refused.status).toBe(429);
      expect(refused.body.error.details).toMatchObject({ reason: 'budget_workspace_spend_reached', currency: 'USD' });
    }
    expect(await budgetEvents()).toHaveLength(1);
  });

  it('counts a replayed submission’s cost once', async () => {
    const body = costlyEmail(1, { amount: 0.04, currency: 'USD' });
    const key = { 'idempotency-key': 'spend-once' };
    expect((await submitAction(harness, ws.agents[0]!.token, body, key)).body.status).toBe('released');
    expect((await submitAction(harness, ws.agents[0]!.token, body, key)).status).toBe(200);
    expect((await budgetsSeenBy(ws.agents[0]!.token))[0]).toMatchObject({ used: 0.04 });
  });

  it('refuses a cost in a currency the budget does not count', async () => {
    const refused = await submitAction(harness, ws.agents[0]!.token, costlyEmail(1, { amount: 1, currency: 'EUR' }));
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('VALIDATION_FAILED');
    expect(refused.body.error.message).toContain('EUR');
    expect(refused.body.error.details.issues).toEqual([{ path: 'evidence.cost.currency', message: 'must be USD' }]);
  });

  it('names the change set entry whose cost is in a currency the budget does not count', async () => {
    const entry = (currency: string, index: number) => ({
      recordId: seedContact(harness, { email: `costly${index}@example.com` }),
      properties: { jobtitle: 'CTO' },
      evidence: { source: 'clearbit', reason: 'Company site', cost: { amount: 0.01, currency } },
    });
    const refused = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agents[0]!.token,
      body: { batchId: 'mixed-currencies', objectType: 'contacts', changes: [entry('USD', 1), entry('EUR', 2)] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('VALIDATION_FAILED');
    expect(refused.body.error.message).toContain('changes.1.evidence.cost.currency');
    expect(refused.body.error.details.issues).toEqual([
      { path: 'changes.1.evidence.cost.currency', message: 'must be USD' },
    ]);
  });
});

describe('spend budgets under concurrent requests', () => {
  it('admits concurrent requests only while their costs fit, per agent and per workspace, and refuses the rest', async () => {
    await publishActionTiers(
      harness,
      ws.workspaceId,
      { send_email: { outreach: 'auto' } },
      {
        budgets: {
          spendPerAgentPerDay: { amount: 0.03, currency: 'USD' },
          spendPerWorkspacePerDay: { amount: 0.05, currency: 'USD' },
        },
      },
    );
    const cent = { amount: 0.01, currency: 'USD' };
    const requests = ws.agents.flatMap((agent, a) =>
      Array.from({ length: 6 }, (_, i) => ({ agent, body: costlyEmail(a * 10 + i, cent) })),
    );
    // Every admitted request stops at its first CRM call until all have been admitted or refused.
    const held: (() => void)[] = [];
    holdWaits = held;
    harness.hubspot.faults.failNext(requests.length, { status: 429 });
    let answered = 0;
    const pending = Promise.all(
      requests.map(async ({ agent, body }) => {
        const answer = await submitAction(harness, agent.token, body);
        answered += 1;
        return { agent, answer };
      }),
    );
    await vi.waitFor(() => expect(held.length + answered).toBe(requests.length), { timeout: 30_000 });
    harness.hubspot.faults.reset();
    holdWaits = undefined;
    for (const release of held) release();
    const answers = await pending;

    const released = answers.filter(({ answer }) => answer.status === 201 && answer.body.status === 'released');
    expect(released).toHaveLength(5);
    for (const agent of ws.agents) expect(released.filter((one) => one.agent === agent).length).toBeLessThanOrEqual(3);
    for (const { answer } of answers.filter((one) => !released.includes(one))) {
      expect(answer.status).toBe(429);
      expect(answer.body.error?.code).toBe('BUDGET_REACHED');
    }
    const [agentBudget, workspaceBudget] = await budgetsSeenBy(ws.agents[0]!.token);
    expect(agentBudget!.used).toBeLessThanOrEqual(0.03);
    expect(workspaceBudget).toMatchObject({ name: 'spendPerWorkspacePerDay', used: 0.05, left: 0 });
    expect(
      (await budgetEvents()).filter((event) => event.reasons.includes('budget_workspace_spend_reached')),
    ).toHaveLength(1);
  });
});
