import type { AgentSafetyView, RegressionRun } from '../agent-safety-api.ts';
import type { AgentStatus } from '../crm-names.ts';
import type { SettingsView } from '../extension-api.ts';
import type { Budgets } from '../policy.ts';

/** The settings page's agents and policy history (issue 8). */

export type AgentAction = 'pause' | 'resume' | 'revoke';

/** What may be done to an agent in its status: revoked is final, so a revoked agent offers nothing. */
export function agentActions(status: AgentStatus): AgentAction[] {
  switch (status) {
    case 'active':
      return ['pause', 'revoke'];
    case 'paused':
      return ['resume', 'revoke'];
    case 'revoked':
      return [];
  }
}

export const AGENT_ACTION_LABEL: Record<AgentAction, string> = { pause: 'Pause', resume: 'Resume', revoke: 'Revoke' };

export function agentActionDone(action: AgentAction, name: string): string {
  switch (action) {
    case 'pause':
      return `${name} is paused: it cannot act until resumed.`;
    case 'resume':
      return `${name} is active again.`;
    case 'revoke':
      return `${name} is revoked: its token no longer works.`;
  }
}

export const REVOKE_WARNING =
  'Revoking is final: the token stops working at once and the agent can never be resumed (create a new agent instead).';

export const TOKEN_WARNING =
  'Copy this token now and give it to the agent: it will not be shown again. Only its hash is kept, so a lost token means creating a new agent and revoking this one.';

export interface HistoryRow {
  version: number;
  publishedBy: string;
  createdAt: string;
  /** The version in force is not restored; every earlier one can be published again. */
  restorable: boolean;
}

export function historyRows(view: Pick<SettingsView, 'history' | 'policy'>): HistoryRow[] {
  return view.history.map((row) => ({ ...row, restorable: row.version !== view.policy?.version }));
}

type AgentUsage = NonNullable<SettingsView['budgetUsage']>['agents'][number];

/**
 * "12 of 500 CRM calls, 0.04 of 5 USD": what an agent used today (the policy's day) of what the
 * policy's per-agent budgets allow (issue 21); without a budget, the use alone.
 */
export function budgetUsageText(today: AgentUsage | undefined, budgets: Budgets | undefined): string {
  const calls = budgets?.crmCallsPerAgentPerDay;
  const spendLimit = budgets?.spendPerAgentPerDay;
  const spent = today?.spend ?? [];
  const currencies = [
    ...new Set([...spent.map((cost) => cost.currency), ...(spendLimit ? [spendLimit.currency] : [])]),
  ];
  const spend = currencies.map((currency) => {
    const amount = spent.find((cost) => cost.currency === currency)?.amount ?? 0;
    const limit = spendLimit?.currency === currency ? ` of ${spendLimit.amount}` : '';
    return `${Number(amount.toFixed(6))}${limit} ${currency}`;
  });
  return [`${today?.crmCalls ?? 0}${calls === undefined ? '' : ` of ${calls}`} CRM calls`, ...spend].join(', ');
}

/** An agent's safety (issue 21) as label and sentence, in the order both settings screens show it. */
export function safetyFacts(safety: AgentSafetyView): { label: string; value: string }[] {
  const { volume } = safety;
  return [
    {
      label: 'Safe mode',
      value:
        safety.inSafeMode && safety.safeModeUntil
          ? `on until ${new Date(safety.safeModeUntil).toLocaleString()}`
          : 'off',
    },
    {
      label: 'Prompt hash',
      value: `${safety.acceptedPromptHash ?? 'none declared'}${safety.pendingPromptHash ? `; new, waiting for a person: ${safety.pendingPromptHash}` : ''}`,
    },
    {
      label: 'Writes today',
      value: `${volume.today} (trailing average ${volume.trailingAverage.toFixed(1)})${volume.jumped ? ', a jump' : ''}${volume.acceptedToday ? ', accepted today' : ''}`,
    },
    { label: 'Holding its auto writes', value: safety.holds.join(', ') || 'nothing' },
  ];
}

/** Which change a person may accept now: a new prompt hash, and a jump in volume not yet accepted today. */
export function acceptableGates(safety: AgentSafetyView): ('prompt' | 'volume')[] {
  return [
    ...(safety.pendingPromptHash ? (['prompt'] as const) : []),
    ...(safety.volume.jumped && !safety.volume.acceptedToday ? (['volume'] as const) : []),
  ];
}

export const GATE_BUTTON: Record<'prompt' | 'volume', string> = {
  prompt: 'Accept the new prompt',
  volume: 'Accept today’s volume',
};
export const GATE_ACCEPTED: Record<'prompt' | 'volume', string> = {
  prompt: 'The new prompt hash is accepted.',
  volume: 'Today’s volume is accepted.',
};

export function regressionRunText(run: RegressionRun): string {
  return run.passed ? 'The regression set passes under the policy in force.' : 'The regression set fails.';
}

/**
 * Why a release of an agent a kill trigger stopped was refused (409 REGRESSION_FAILED): the
 * failures the server names, each a sentence. Only an owner may release it past them (`force`).
 */
export function regressionFailures(result: { code: string; details?: unknown }): string[] | null {
  if (result.code !== 'REGRESSION_FAILED') return null;
  const failures = (result.details as { failures?: unknown } | undefined)?.failures;
  return Array.isArray(failures) ? failures.map(String) : [];
}
