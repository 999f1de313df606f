import type { Cost } from '../../../../shared/agent-api.ts';
import type { Policy } from '../../../../shared/policy.ts';
import { type CrmCallMeter, meteringCrmCalls } from '../../crm/call-meter.ts';
import {
  type BudgetState,
  budgetStates,
  foreignCurrency,
  fromMicros,
  reachedBudget,
  spendCurrencies,
  toMicros,
} from '../../domain/budgets.ts';
import { dayKey } from '../../domain/policy-evaluation.ts';
import { AppError } from '../../errors.ts';
import { addSpend, budgetUsageByAgent, readCrmCalls, readSpend } from '../../store/budget-store.ts';
import type { Db, Tx } from '../../store/database.ts';
import { addUsage } from '../../store/usage-store.ts';
import { type ServiceDeps, withAuditChain } from '../common/index.ts';
import { activePolicy } from './policies.ts';

const BUDGETS = { type: 'system', name: 'budgets' } as const;

export interface BudgetedAgent {
  workspaceId: string;
  agent: { id: string; name: string };
}

/** Today's state of each budget the policy sets, for this agent and its workspace. */
export async function agentBudgetStates(
  db: Db | Tx,
  input: BudgetedAgent & { policy: Policy; now: Date },
): Promise<{ day: string; states: BudgetState[] }> {
  const { workspaceId, agent, policy } = input;
  const day = dayKey(input.now, policy.timezone);
  if (!policy.budgets) return { day, states: [] };
  const query = { workspaceId, agentId: agent.id, day };
  const crmCalls = await readCrmCalls(db, query);
  const spend = new Map<string, { agent: number; workspace: number }>();
  for (const currency of spendCurrencies(policy.budgets))
    spend.set(currency, await readSpend(db, { ...query, currency }));
  return { day, states: budgetStates(policy.budgets, { crmCalls, spend }) };
}

/**
 * Runs an agent's request within its budgets (issue 21): refuses it (BUDGET_REACHED, with the
 * budget's reason code) when a budget is used up today, or VALIDATION_FAILED for a cost in a
 * currency no spend budget counts; else counts the CRM calls the request makes and, when
 * `counted` says the request was new (not a replay), the costs it reported. A budget the request
 * used up is audited (`agent.budget_reached`).
 */
export async function withinAgentBudget<T>(
  deps: ServiceDeps,
  input: BudgetedAgent & { costs: readonly Cost[]; counted?: (result: T) => boolean },
  work: () => Promise<T>,
): Promise<T> {
  const { workspaceId } = input;
  const { policy } = await activePolicy(deps.db, workspaceId);
  const before = await agentBudgetStates(deps.db, { ...input, policy, now: deps.clock() });
  const reached = reachedBudget(before.states);
  if (reached) throw budgetReached(reached);
  const foreign = foreignCurrency(
    policy.budgets,
    input.costs.map((cost) => cost.currency),
  );
  if (foreign)
    throw new AppError(
      'VALIDATION_FAILED',
      `The evidence reports a cost in ${foreign}, but the policy's spend budgets count ${spendCurrencies(policy.budgets).join(' and ')}: report costs in that currency.`,
      {
        details: {
          issues: [
            { path: 'evidence.cost.currency', message: `must be ${spendCurrencies(policy.budgets).join(' or ')}` },
          ],
        },
      },
    );

  const meter: CrmCallMeter = { calls: 0 };
  let result: { value: T } | undefined;
  try {
    result = { value: await meteringCrmCalls(meter, work) };
    return result.value;
  } finally {
    const spent = result && (input.counted?.(result.value) ?? true) ? input.costs : [];
    await recordUsage(deps, { ...input, day: before.day, calls: meter.calls, costs: spent });
    if (before.states.length > 0) await auditBudgetsUsedUp(deps, { ...input, policy, before: before.states });
  }
}

async function recordUsage(
  deps: ServiceDeps,
  input: BudgetedAgent & { day: string; calls: number; costs: readonly Cost[] },
): Promise<void> {
  const { workspaceId, agent, day } = input;
  if (input.calls === 0 && input.costs.length === 0) return;
  const spend = new Map<string, number>();
  for (const cost of input.costs) spend.set(cost.currency, (spend.get(cost.currency) ?? 0) + toMicros(cost.amount));
  await deps.db.transaction(async (tx) => {
    await addUsage(tx, { workspaceId, scope: 'agent_crm_calls', day, increments: new Map([[agent.id, input.calls]]) });
    for (const [currency, micros] of spend)
      await addSpend(tx, { workspaceId, agentId: agent.id, day, currency, micros });
  });
}

/** Audits each budget this request used up (it had some left before, none now). */
async function auditBudgetsUsedUp(
  deps: ServiceDeps,
  input: BudgetedAgent & { policy: Policy; before: readonly BudgetState[] },
): Promise<void> {
  const after = await agentBudgetStates(deps.db, { ...input, now: deps.clock() });
  const usedUp = after.states.filter(
    (state) => state.left <= 0 && (input.before.find((earlier) => earlier.name === state.name)?.left ?? 0) > 0,
  );
  if (usedUp.length === 0) return;
  await withAuditChain(deps.db, input.workspaceId, deps.clock, async (_tx, audit) => {
    for (const state of usedUp)
      audit.append({
        type: 'agent.budget_reached',
        actor: BUDGETS,
        agentId: input.agent.id,
        reasons: [state.reason],
        data: {
          budget: state.name,
          day: after.day,
          limit: state.limit,
          used: state.used,
          ...(state.currency ? { currency: state.currency } : {}),
        },
      });
  });
}

function budgetReached(state: BudgetState): AppError {
  const what = state.currency
    ? `${state.used} ${state.currency} spent of a ${state.limit} ${state.currency} budget`
    : `${state.used} CRM calls made of a budget of ${state.limit}`;
  const whose = state.name.includes('Workspace') ? 'the workspace' : 'this agent';
  return new AppError(
    'BUDGET_REACHED',
    `The policy's daily budget ${state.name} is used up for ${whose} (${what}); requests are refused until tomorrow or until an admin raises it.`,
    {
      details: {
        reason: state.reason,
        budget: state.name,
        limit: state.limit,
        used: state.used,
        ...(state.currency ? { currency: state.currency } : {}),
      },
    },
  );
}

/** Each agent's CRM calls and reported spend today (the policy's day), for the settings page and the console. */
export async function workspaceBudgetUsage(
  deps: ServiceDeps,
  workspaceId: string,
  policy: Policy,
): Promise<{ day: string; agents: { agentId: string; crmCalls: number; spend: Cost[] }[] }> {
  const day = dayKey(deps.clock(), policy.timezone);
  const usage = await budgetUsageByAgent(deps.db, workspaceId, day);
  return {
    day,
    agents: [...usage].map(([agentId, { crmCalls, spend }]) => ({
      agentId,
      crmCalls,
      spend: spend.map(({ currency, micros }) => ({ currency, amount: fromMicros(micros) })),
    })),
  };
}
