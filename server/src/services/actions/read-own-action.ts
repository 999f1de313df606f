import type { ActionView } from '../../../../shared/action-api.ts';
import type { AgentRow } from '../../store/agent-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { assertNotKilled, killSwitchError, switchStoppingDraft, switchView } from '../governance/index.ts';
import { draftSubject } from './release-action.ts';
import { agentActionView } from './action-view.ts';
import { requireOwnAction } from './report-action-outcome.ts';
import { stopReleasedEmailIfBarred } from './stop-rules.ts';

/**
 * An agent reads back one of its drafts: a released email is stopped first if its contact has
 * since replied, unsubscribed or opted out. Reading a released email is the agent's permission to
 * send it, so a kill switch withholds it (and its release token).
 */
export async function readOwnAction(
  deps: ServiceDeps,
  input: { agent: AgentRow; workspace: WorkspaceRow; actionId: string },
): Promise<ActionView> {
  const row = await stopReleasedEmailIfBarred(deps, await requireOwnAction(deps, input));
  if (row.kind === 'send_email' && row.status === 'released') {
    await assertNotKilled(deps.db, { workspaceId: input.workspace.id, agentId: input.agent.id, action: 'send_email' });
    const stopped = await switchStoppingDraft(deps, input.workspace, draftSubject(row));
    if (stopped) throw killSwitchError(switchView(stopped));
  }
  return agentActionView(deps, row);
}
