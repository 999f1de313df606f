/**
 * Budgets (issue 21), pure: CRM calls made for an agent and spend agents report in evidence,
 * per agent and per workspace, per day. Spend is kept in millionths of its currency's unit so
 * that sums are exact.
 */
import type { Budgets } from '../../../shared/policy.ts';
import type { ReasonCode } from '../../../shared/reason-codes.ts';

export type BudgetName = keyof Budgets;

export interface BudgetUsage {
  crmCalls: { agent: number; workspace: number };
  /** Millionths of the spend budgets' currencies, by currency. */
  spend: ReadonlyMap<string, { agent: number; workspace: number }>;
}

export interface BudgetState {
  name: BudgetName;
  /** Calls, or an amount of `currency`. */
  limit: number;
  used: number;
  left: number;
  currency?: string;
  reason: ReasonCode;
}

const REASONS: Record<BudgetName, ReasonCode> = {
  crmCallsPerAgentPerDay: 'budget_agent_crm_calls_reached',
  crmCallsPerWorkspacePerDay: 'budget_workspace_crm_calls_reached',
  spendPerAgentPerDay: 'budget_agent_spend_reached',
  spendPerWorkspacePerDay: 'budget_workspace_spend_reached',
};

export function toMicros(amount: number): number {
  return Math.round(amount * 1_000_000);
}

export function fromMicros(micros: number): number {
  return micros / 1_000_000;
}

/** The currencies the policy's spend budgets count in. */
export function spendCurrencies(budgets: Budgets | undefined): string[] {
  const currencies = [budgets?.spendPerAgentPerDay?.currency, budgets?.spendPerWorkspacePerDay?.currency];
  return [...new Set(currencies.filter((currency) => currency !== undefined))];
}

/** Each budget the policy sets, with what today used of it and what is left. */
export function budgetStates(budgets: Budgets | undefined, usage: BudgetUsage): BudgetState[] {
  if (!budgets) return [];
  const states: BudgetState[] = [];
  const state = (name: BudgetName, limit: number, used: number, currency?: string) =>
    states.push({
      name,
      limit,
      used,
      left: Math.max(0, limit - used),
      ...(currency ? { currency } : {}),
      reason: REASONS[name],
    });
  if (budgets.crmCallsPerAgentPerDay !== undefined)
    state('crmCallsPerAgentPerDay', budgets.crmCallsPerAgentPerDay, usage.crmCalls.agent);
  if (budgets.crmCallsPerWorkspacePerDay !== undefined)
    state('crmCallsPerWorkspacePerDay', budgets.crmCallsPerWorkspacePerDay, usage.crmCalls.workspace);
  for (const [name, who] of [
    ['spendPerAgentPerDay', 'agent'],
    ['spendPerWorkspacePerDay', 'workspace'],
  ] as const) {
    const budget = budgets[name];
    if (!budget) continue;
    const spent = usage.spend.get(budget.currency)?.[who] ?? 0;
    state(name, budget.amount, fromMicros(spent), budget.currency);
  }
  return states;
}

/**
 * The first budget that refuses a request reporting `spend` (millionths, by currency): one used up
 * (nothing left), or a spend budget with less left than the request's cost, so spend never passes
 * its budget. Undefined when every budget admits it.
 */
export function refusingBudget(
  states: readonly BudgetState[],
  spend: ReadonlyMap<string, number> = new Map(),
): BudgetState | undefined {
  return states.find(
    (state) =>
      state.left <= 0 ||
      (state.currency !== undefined && toMicros(state.limit) - toMicros(state.used) < (spend.get(state.currency) ?? 0)),
  );
}

/** Whether the budget counts the whole workspace's agents together, not one agent's. */
export function workspaceWide(name: BudgetName): boolean {
  return name === 'crmCallsPerWorkspacePerDay' || name === 'spendPerWorkspacePerDay';
}

/** A request's reported costs in millionths, summed by currency. */
export function spendByCurrency(costs: readonly { amount: number; currency: string }[]): Map<string, number> {
  const spend = new Map<string, number>();
  for (const cost of costs) spend.set(cost.currency, (spend.get(cost.currency) ?? 0) + toMicros(cost.amount));
  return spend;
}

/** A cost in a currency no spend budget counts in, when the policy sets one: one currency per budget. */
export function foreignCurrency(budgets: Budgets | undefined, currencies: readonly string[]): string | undefined {
  const counted = spendCurrencies(budgets);
  if (counted.length === 0) return undefined;
  return currencies.find((currency) => !counted.includes(currency));
}
