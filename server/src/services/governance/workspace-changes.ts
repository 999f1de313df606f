import { AppError } from '../../errors.ts';
import { listAgents, updateAgentStatus } from '../../store/agent-store.ts';
import {
  lockWorkspace,
  updateWorkspace,
  workspaceHasSubmittedWork,
  type WorkspaceRow,
} from '../../store/workspace-store.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { setKillSwitch } from './kill-switches.ts';
import { requireActiveWorkspace, verifyCrmToken, workspaceView, type WorkspaceView } from './workspaces.ts';

export interface WorkspaceChanges {
  name?: string | undefined;
  hubspotToken?: string | undefined;
  hubspotClientSecret?: string | undefined;
  /** Check a new token with one CRM call before storing it, as `workspace add` does. */
  verifyToken: boolean;
}

/**
 * Renames a workspace or rotates its credentials (issue 18). The audit event names what changed,
 * never a token or secret; a new token is checked before it replaces the old one.
 */
export async function changeWorkspace(
  deps: ServiceDeps,
  workspaceId: string,
  changes: WorkspaceChanges,
  actor: Actor,
): Promise<WorkspaceView> {
  const workspace = await requireActiveWorkspace(deps, workspaceId);
  const changed = (['name', 'hubspotToken', 'hubspotClientSecret'] as const).filter(
    (field) => changes[field] !== undefined,
  );
  if (changed.length === 0)
    throw new AppError(
      'VALIDATION_FAILED',
      'Nothing to change: give --name, --hubspot-token or --hubspot-client-secret.',
    );
  const hubspotTokenEnc = changes.hubspotToken === undefined ? undefined : deps.secrets.seal(changes.hubspotToken);
  if (hubspotTokenEnc !== undefined && changes.verifyToken)
    await verifyCrmToken(deps, { id: workspace.id, hubspotPortalId: workspace.hubspotPortalId, hubspotTokenEnc });
  return withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const locked = await lockedActive(tx, workspace.id);
    const update = {
      ...(changes.name === undefined ? {} : { name: changes.name }),
      ...(hubspotTokenEnc === undefined ? {} : { hubspotTokenEnc }),
      ...(changes.hubspotClientSecret === undefined
        ? {}
        : { hubspotClientSecretEnc: deps.secrets.seal(changes.hubspotClientSecret) }),
    };
    await updateWorkspace(tx, workspace.id, update);
    audit.append({
      type: 'workspace.updated',
      actor: actorJson(actor),
      ...(changes.name === undefined ? {} : { before: { name: locked.name }, after: { name: changes.name } }),
      data: { changed: [...changed], ...(hubspotTokenEnc === undefined ? {} : { tokenVerified: changes.verifyToken }) },
    });
    return workspaceView({ ...locked, ...update });
  });
}

/**
 * Removes a workspace without deleting anything (issue 18): it is marked removed, its agents are
 * revoked, its admin token stops working and its portal may be connected again; its rows and its
 * audit chain stay, and `audit verify` / `audit export` still read them. A workspace agents have
 * submitted work to is refused unless `force`; then its kill switch is engaged first, so no held
 * write of it is applied afterwards.
 */
export async function removeWorkspace(
  deps: ServiceDeps,
  workspaceId: string,
  options: { force: boolean },
  actor: Actor,
): Promise<{ workspace: WorkspaceView; revokedAgents: string[] }> {
  const workspace = await requireActiveWorkspace(deps, workspaceId);
  if (options.force)
    await setKillSwitch(
      deps,
      workspace.id,
      { scope: 'workspace', engaged: true, reason: 'The workspace was removed.' },
      actor,
    );
  return withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const locked = await lockedActive(tx, workspace.id);
    const hadSubmittedWork = await workspaceHasSubmittedWork(tx, workspace.id);
    if (hadSubmittedWork && !options.force) {
      throw new AppError(
        'CONFLICT',
        `Workspace ${workspace.id} holds change sets or drafts its agents submitted. Give --force to remove it anyway: its kill switch is engaged, its agents revoked, and its records and audit log kept.`,
      );
    }
    const revokedAgents: string[] = [];
    for (const agent of await listAgents(tx, workspace.id)) {
      if (agent.status === 'revoked') continue;
      await updateAgentStatus(tx, workspace.id, agent.id, 'revoked');
      audit.append({
        type: 'agent.revoked',
        actor: actorJson(actor),
        agentId: agent.id,
        before: { status: agent.status },
        after: { status: 'revoked' },
      });
      revokedAgents.push(agent.id);
    }
    const removedAt = deps.clock();
    await updateWorkspace(tx, workspace.id, { removedAt });
    audit.append({
      type: 'workspace.removed',
      actor: actorJson(actor),
      data: { force: options.force, hadSubmittedWork, revokedAgents },
    });
    return { workspace: workspaceView({ ...locked, removedAt }), revokedAgents };
  });
}

async function lockedActive(tx: Parameters<typeof lockWorkspace>[0], workspaceId: string): Promise<WorkspaceRow> {
  const locked = await lockWorkspace(tx, workspaceId);
  // Removed by another command since it was read.
  if (!locked || locked.removedAt) throw new AppError('CONFLICT', `Workspace ${workspaceId} was removed meanwhile.`);
  return locked;
}
