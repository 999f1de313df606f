import type { AgentStatus } from '../crm-names.ts';
import type { SettingsView } from '../extension-api.ts';

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
