import type { VerifyReleaseResponse } from '../../../../shared/action-api.ts';
import { AppError } from '../../errors.ts';
import type { ActionRow } from '../../store/action-store.ts';
import { findActiveDelegation, findAgent } from '../../store/agent-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { RELEASED_STATUSES, requireAction } from './action-view.ts';
import { refuseReleasedEmailWhileStopped } from './read-own-action.ts';
import { releaseTokenMatches } from './release-token.ts';
import { stopReleasedEmailIfBarred } from './stop-rules.ts';

/**
 * Whether this token is the one issued when people released this email, and what it vouches
 * for: the content hash (SHA-256 of the released to, subject and body as canonical JSON) and who
 * approved. Any agent of the workspace may ask, so a separate sending service can check before
 * it sends. A wrong token is an answer (`valid: false`), not an error; so is an email a stop
 * rule barred since its release (it becomes `stopped`). A right one while a kill switch stops the
 * email is the 423 the drafting agent's read gets; one the drafting agent may not send (paused or
 * revoked, or drafted for a person whose delegation has ended) is a 403.
 */
export async function verifyRelease(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  actionId: string,
  releaseToken: string,
): Promise<VerifyReleaseResponse> {
  const row = await stopReleasedEmailIfBarred(deps, await requireAction(deps.db, workspace.id, actionId));
  const valid = RELEASED_STATUSES.includes(row.status) && releaseTokenMatches(releaseToken, row.releaseTokenHash);
  if (!valid || row.contentHash === null || row.releasedAt === null) return { valid: false, actionId: row.id };
  await refuseWhileDrafterStopped(deps, workspace.id, row);
  await refuseWithoutDelegation(deps, workspace.id, row);
  await refuseReleasedEmailWhileStopped(deps, workspace, row);
  return {
    valid: true,
    actionId: row.id,
    contentHash: row.contentHash,
    approvedBy: row.approvedBy,
    releasedAt: row.releasedAt.toISOString(),
  };
}

/**
 * 403 `AGENT_NOT_ACTIVE` for a released email whose agent is paused or revoked: sending it is that
 * agent acting, which pausing stops until it is resumed. Checked here only: the drafting agent's
 * own read is refused at sign-in while it is not active.
 */
async function refuseWhileDrafterStopped(deps: ServiceDeps, workspaceId: string, row: ActionRow): Promise<void> {
  if (row.kind !== 'send_email' || row.status !== 'released') return;
  const agent = await findAgent(deps.db, workspaceId, row.agentId);
  if (agent && agent.status !== 'active')
    throw new AppError(
      'AGENT_NOT_ACTIVE',
      `Agent ${agent.name} is ${agent.status}: its released emails may not be sent.`,
      {
        details: { status: agent.status },
      },
    );
}

/**
 * 403 `DELEGATION_INVALID` for a released email drafted for a person who no longer lets the agent
 * act for them: sending it is the agent acting for them, so an ended or expired delegation stops it
 * as it stops a new draft.
 */
async function refuseWithoutDelegation(deps: ServiceDeps, workspaceId: string, row: ActionRow): Promise<void> {
  if (row.kind !== 'send_email' || row.status !== 'released' || row.delegatedUserId === null) return;
  const query = { workspaceId, agentId: row.agentId, crmUserId: row.delegatedUserId, now: deps.clock() };
  if (!(await findActiveDelegation(deps.db, query)))
    throw new AppError(
      'DELEGATION_INVALID',
      `This email was drafted for CRM user ${row.delegatedUserId}, whose delegation to the agent has ended or expired: it may not be sent.`,
    );
}
