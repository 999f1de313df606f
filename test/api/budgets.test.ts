import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whatMayIChange } from '../../server/src/services/agent-tools/index.ts';
import { authenticateAgent } from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { EMAIL_EVIDENCE, emailAction, publishActionTiers, submitAction, testClock } from '../support/actions.ts';
import { seedContact } from '../support/approvals.ts';
import { seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let clock: ReturnType<typeof testClock>;

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedWorkspace(harness, ['outreach', 'outreach']);
});
afterEach(() => harness.close());

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

  it('adds up every agent’s reported cost and stops all of them once the budget is spent', async () => {
    const [first, second] = ws.agents;
    const usd = (amount: number) => ({ amount, currency: 'USD' });
    expect((await submitAction(harness, first!.token, costlyEmail(1, usd(0.03)))).body.status).toBe('released');
    expect(await budgetsSeenBy(second!.token)).toEqual([
      { name: 'spendPerWorkspacePerDay', limit: 0.05, used: 0.03, left: expect.closeTo(0.02, 6), currency: 'USD' },
    ]);
    expect((await submitAction(harness, second!.token, costlyEmail(2, usd(0.03)))).body.status).toBe('released');
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
  });
});
