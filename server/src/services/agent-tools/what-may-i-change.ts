import { ACTION_KINDS, type ActionKind } from '../../../../shared/crm-names.ts';
import type { KillSwitchView } from '../../../../shared/admin-api.ts';
import { type AgentPermissions, agentPermissions } from '../../domain/agent-permissions.ts';
import { dayKey } from '../../domain/policy-evaluation.ts';
import { readUsages } from '../../store/usage-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import type { BudgetState } from '../../domain/budgets.ts';
import { activePolicy, agentBudgetStates, type AuthenticatedAgent, engagedKillSwitch } from '../governance/index.ts';

export interface PermissionsView extends AgentPermissions {
  policyVersion: number;
  /** The policy's calendar day the caps count in (YYYY-MM-DD, in the policy's time zone). */
  day: string;
  /** This agent's field writes counted today, and how many the agent cap leaves (null: no cap). */
  writesToday: { used: number; left: number | null };
  /** The same for the records this agent created today and the associations it made (issue 21). */
  createsToday: { used: number; left: number | null };
  associationsToday: { used: number; left: number | null };
  /** Each engaged kill switch that stops this agent, with the action kinds it stops. */
  killSwitches: (KillSwitchView & { stops: ActionKind[] })[];
  /**
   * Each daily budget the policy sets (issue 21: CRM calls made for this agent or its workspace,
   * spend reported in evidence), what today used and what is left; at none left, requests are refused.
   */
  budgets: Omit<BudgetState, 'reason'>[];
}

/** The policy in force for this agent's role, today's usage of its caps and the kill switches that stop it. */
export async function whatMayIChange(deps: ServiceDeps, caller: AuthenticatedAgent): Promise<PermissionsView> {
  const { agent, workspace } = caller;
  const { version, policy } = await activePolicy(deps.db, workspace.id);
  const now = deps.clock();
  const day = dayKey(now, policy.timezone);
  const permissions = agentPermissions({ policy, role: agent.role, now });
  const [usage, switches, budgets] = await Promise.all([
    deps.db.transaction((tx) =>
      readUsages(tx, {
        workspaceId: workspace.id,
        day,
        subjects: [
          ['agent_writes', [agent.id]],
          ['agent_creates', [agent.id]],
          ['agent_associations', [agent.id]],
        ],
      }),
    ),
    Promise.all(
      ACTION_KINDS.map((action) =>
        engagedKillSwitch(deps.db, { workspaceId: workspace.id, agentId: agent.id, action }),
      ),
    ),
    agentBudgetStates(deps.db, { workspaceId: workspace.id, agent, policy, now }),
  ]);
  const [writes, creates, associations] = usage;
  const today = (counts: Map<string, number>, cap: number | undefined) => {
    const used = counts.get(agent.id) ?? 0;
    return { used, left: cap === undefined ? null : Math.max(0, cap - used) };
  };
  return {
    policyVersion: version,
    day,
    ...permissions,
    writesToday: today(writes, permissions.caps.writesPerAgentPerDay),
    createsToday: today(creates, permissions.caps.createsPerAgentPerDay),
    associationsToday: today(associations, permissions.caps.associationsPerAgentPerDay),
    killSwitches: groupByScope(switches),
    budgets: budgets.states.map(({ reason: _reason, ...state }) => state),
  };
}

/** One entry per engaged switch (a workspace switch stops every kind), listing the kinds it is the first to stop. */
function groupByScope(switches: (KillSwitchView | undefined)[]): PermissionsView['killSwitches'] {
  const grouped = new Map<string, KillSwitchView & { stops: ActionKind[] }>();
  switches.forEach((engaged, index) => {
    if (!engaged) return;
    const key = `${engaged.scope}:${engaged.target ?? ''}`;
    const entry = grouped.get(key) ?? { ...engaged, stops: [] };
    entry.stops.push(ACTION_KINDS[index]!);
    grouped.set(key, entry);
  });
  return [...grouped.values()];
}
