import type { ActivePolicy } from '../../../../shared/admin-api.ts';
import type { Cost } from '../../../../shared/agent-api.ts';
import type { Policy } from '../../../../shared/policy.ts';
import { type CrmCallMeter, meteringCrmCalls } from '../../crm/call-meter.ts';
import {
  type BudgetState,
  budgetStates,
  foreignCurrency,
  fromMicros,
  refusingBudget,
  spendByCurrency,
  spendCurrencies,
  workspaceWide,
} from '../../domain/budgets.ts';
import { dayKey } from '../../domain/policy-evaluation.ts';
import { AppError } from '../../errors.ts';
import {
  addSpend,
  budgetsAuditedAsReached,
  budgetUsageByAgent,
  lockSpend,
  readCrmCalls,
  readSpend,
  releaseSpend,
} from '../../store/budget-store.ts';
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
  const day = dayKey(input.now, input.policy.timezone);
  return { day, states: await budgetStatesOn(db, { ...input, day }) };
}

async function budgetStatesOn(
  db: Db | Tx,
  input: BudgetedAgent & { policy: Policy; day: string },
): Promise<BudgetState[]> {
  const { workspaceId, agent, policy, day } = input;
  if (!policy.budgets) return [];
  const query = { workspaceId, agentId: agent.id, day };
  const crmCalls = await readCrmCalls(db, query);
  const spend = new Map<string, { agent: number; workspace: number }>();
  for (const currency of spendCurrencies(policy.budgets))
    spend.set(currency, await readSpend(db, { ...query, currency }));
  return budgetStates(policy.budgets, { crmCalls, spend });
}

/**
 * Runs an agent's request within its budgets (issue 21). Before the work it refuses a cost in a
 * currency no spend budget counts (VALIDATION_FAILED), and a request a budget refuses
 * (BUDGET_REACHED, with the budget's reason code): one used up, or a spend budget with less left
 * than the request's cost. Else it reserves that cost under the workspace's spend lock, so
 * concurrent requests never spend past a spend budget, and gives it back if the work fails or
 * `counted` says the request replayed an earlier one. Each CRM call the work makes is counted;
 * under a call budget it is stored before it is sent, so a request that starts once the budget
 * is used up is refused even while the requests that used it up still run. A request `replays`
 * finds already done runs outside budgets: its answer is stored, and it spends and calls nothing.
 * `work` is given the policy the budgets were read from, the one in force as the request came,
 * with its version: the request is decided under it, not under a second read.
 */
export async function withinAgentBudget<T>(
  deps: ServiceDeps,
  input: BudgetedAgent & {
    /** Each cost with where the request reports it (`changes.2.evidence.cost`), for the refusal's path. */
    costs: readonly ReportedCost[];
    replays?: () => Promise<boolean>;
    counted?: (result: T) => boolean;
  },
  work: (active: ActivePolicy) => Promise<T>,
): Promise<T> {
  const { workspaceId, agent } = input;
  const active = await activePolicy(deps.db, workspaceId);
  const { policy } = active;
  assertCountedCurrencies(policy, input.costs);
  if (await input.replays?.()) return work(active);
  const day = dayKey(deps.clock(), policy.timezone);
  const spend = spendByCurrency(input.costs);
  await reserveSpend(deps, { ...input, policy, day, spend });

  const addCalls = (calls: number) =>
    addUsage(deps.db, { workspaceId, scope: 'agent_crm_calls', day, increments: new Map([[agent.id, calls]]) });
  const callBudget =
    policy.budgets?.crmCallsPerAgentPerDay !== undefined || policy.budgets?.crmCallsPerWorkspacePerDay !== undefined;
  const meter: CrmCallMeter = { calls: 0, ...(callBudget ? { beforeCall: () => addCalls(1) } : {}) };
  let counted = false;
  try {
    const result = await meteringCrmCalls(meter, () => work(active));
    counted = input.counted?.(result) ?? true;
    return result;
  } finally {
    if (!counted)
      for (const [currency, micros] of spend)
        await releaseSpend(deps.db, { workspaceId, agentId: agent.id, day, currency, micros });
    // Without a call budget the calls are stored once, at the end: the Agents screen still shows them.
    if (!callBudget) await addCalls(meter.calls);
    if (policy.budgets) {
      const usedUp = (await budgetStatesOn(deps.db, { ...input, policy, day })).filter((state) => state.left <= 0);
      await auditBudgetsReached(deps, { ...input, day, states: usedUp });
    }
  }
}

type ReportedCost = Cost & { path: string };

function assertCountedCurrencies(policy: Policy, costs: readonly ReportedCost[]): void {
  const foreign = foreignCurrency(
    policy.budgets,
    costs.map((cost) => cost.currency),
  );
  if (!foreign) return;
  const counted = spendCurrencies(policy.budgets);
  const path = `${costs.find((cost) => cost.currency === foreign)?.path}.currency`;
  throw new AppError(
    'VALIDATION_FAILED',
    `The evidence reports a cost in ${foreign} (${path}), but the policy's spend budgets count ${counted.join(' and ')}: report costs in that currency.`,
    { details: { issues: [{ path, message: `must be ${counted.join(' or ')}` }] } },
  );
}

/** Refuses the request if a budget does, else adds its cost to today's spend before its work runs. */
async function reserveSpend(
  deps: ServiceDeps,
  input: BudgetedAgent & { policy: Policy; day: string; spend: ReadonlyMap<string, number> },
): Promise<void> {
  const { workspaceId, agent, policy, day, spend } = input;
  if (!policy.budgets && spend.size === 0) return;
  const refusal = await deps.db.transaction(async (tx) => {
    // Two requests reading the same spend left would each fit and together overshoot it.
    if (spend.size > 0 && spendCurrencies(policy.budgets).length > 0) await lockSpend(tx, { workspaceId, day });
    const refusing = refusingBudget(await budgetStatesOn(tx, input), spend);
    if (refusing) return refusing;
    for (const [currency, micros] of spend)
      await addSpend(tx, { workspaceId, agentId: agent.id, day, currency, micros });
    return undefined;
  });
  if (!refusal) return;
  await auditBudgetsReached(deps, { ...input, states: [refusal] });
  throw budgetReached(refusal, spend);
}

/**
 * Audits each budget reached (`agent.budget_reached`) once a day, by the request that used it up
 * or the first it refused, and for an agent's budget once per agent: concurrent requests may all see it.
 */
async function auditBudgetsReached(
  deps: ServiceDeps,
  input: BudgetedAgent & { day: string; states: readonly BudgetState[] },
): Promise<void> {
  const query = { workspaceId: input.workspaceId, day: input.day };
  const unaudited = async (db: Db | Tx, states: readonly BudgetState[]) => {
    const audited = await budgetsAuditedAsReached(db, query);
    return states.filter(
      (state) =>
        !audited.some(
          (event) => event.budget === state.name && (workspaceWide(state.name) || event.agentId === input.agent.id),
        ),
    );
  };
  // Read first without the chain lock: an agent refused over and over must not queue behind decisions for it.
  const candidates = input.states.length === 0 ? [] : await unaudited(deps.db, input.states);
  if (candidates.length === 0) return;
  await withAuditChain(deps.db, input.workspaceId, deps.clock, async (tx, audit) => {
    for (const state of await unaudited(tx, candidates))
      audit.append({
        type: 'agent.budget_reached',
        actor: BUDGETS,
        agentId: input.agent.id,
        reasons: [state.reason],
        data: {
          budget: state.name,
          day: input.day,
          limit: state.limit,
          used: state.used,
          ...(state.currency ? { currency: state.currency } : {}),
        },
      });
  });
}

function budgetReached(state: BudgetState, spend: ReadonlyMap<string, number>): AppError {
  const whose = workspaceWide(state.name) ? 'the workspace' : 'this agent';
  const what = state.currency
    ? `${state.used} ${state.currency} spent of a ${state.limit} ${state.currency} budget`
    : `${state.used} CRM calls made of a budget of ${state.limit}`;
  const cost = state.currency ? fromMicros(spend.get(state.currency) ?? 0) : 0;
  const message =
    state.left > 0
      ? `The policy's daily budget ${state.name} has too little left for ${whose} (${what}) for the ${cost} ${state.currency} this request reports; it is refused, and costs that fit what is left still pass until tomorrow or until an admin raises it.`
      : `The policy's daily budget ${state.name} is used up for ${whose} (${what}); requests are refused until tomorrow or until an admin raises it.`;
  return new AppError('BUDGET_REACHED', message, {
    details: {
      reason: state.reason,
      budget: state.name,
      limit: state.limit,
      used: state.used,
      ...(state.currency ? { currency: state.currency } : {}),
    },
  });
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
