import type { ActionView } from '../../../../shared/action-api.ts';
import type { ActionRow } from '../../store/action-store.ts';
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
  await refuseReleasedEmailWhileStopped(deps, input.workspace, row);
  return agentActionView(deps, row);
}

/**
 * 423 while a kill switch stops this released email (its agent, sending emails, its recipient's
 * domain, its segment, template or evidence source): both the drafting agent's read and a sending
 * service's check of the release token answer it, so a token handed out before the switch sends nothing.
 */
export async function refuseReleasedEmailWhileStopped(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  row: ActionRow,
): Promise<void> {
  if (row.kind !== 'send_email' || row.status !== 'released') return;
  await assertNotKilled(deps.db, { workspaceId: workspace.id, agentId: row.agentId, action: 'send_email' });
  const stopped = await switchStoppingDraft(deps, workspace, draftSubject(row));
  if (stopped) throw killSwitchError(switchView(stopped));
}
