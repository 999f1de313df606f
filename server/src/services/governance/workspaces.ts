import { randomUUID } from 'node:crypto';
import { AppError } from '../../errors.ts';
import { hashToken, newToken } from '../../secrets.ts';
import { createAuditHead, lockAuditChain } from '../../store/audit-store.ts';
import { findWorkspace, findWorkspaceByPortal, insertWorkspace, type WorkspaceRow } from '../../store/workspace-store.ts';
import { actorJson, type Actor, type ServiceDeps, isUuid } from '../common/index.ts';

export interface NewWorkspace {
  name: string;
  hubspotPortalId: string;
  hubspotToken: string;
  hubspotClientSecret?: string | undefined;
}

/** Connects a HubSpot account. The admin token is shown once here and kept only as a hash. */
export async function createWorkspace(deps: ServiceDeps, input: NewWorkspace, actor: Actor): Promise<{ id: string; adminToken: string }> {
  if (await findWorkspaceByPortal(deps.db, input.hubspotPortalId)) {
    throw new AppError('CONFLICT', `HubSpot portal ${input.hubspotPortalId} is already connected to a workspace.`);
  }
  const id = randomUUID();
  const adminToken = newToken('adm');
  await deps.db.transaction(async (tx) => {
    await insertWorkspace(tx, {
      id,
      name: input.name,
      crm: 'hubspot',
      hubspotPortalId: input.hubspotPortalId,
      hubspotTokenEnc: deps.secrets.seal(input.hubspotToken),
      hubspotClientSecretEnc: input.hubspotClientSecret ? deps.secrets.seal(input.hubspotClientSecret) : null,
      adminTokenHash: hashToken(adminToken),
    });
    await createAuditHead(tx, id);
    const audit = await lockAuditChain(tx, id, deps.clock);
    audit.append({ type: 'workspace.created', actor: actorJson(actor), data: { name: input.name, crm: 'hubspot', hubspotPortalId: input.hubspotPortalId } });
    await audit.flush();
  });
  return { id, adminToken };
}

export async function requireWorkspace(deps: ServiceDeps, workspaceId: string): Promise<WorkspaceRow> {
  const workspace = isUuid(workspaceId) ? await findWorkspace(deps.db, workspaceId) : undefined;
  if (!workspace) throw new AppError('NOT_FOUND', `Workspace ${workspaceId} does not exist.`);
  return workspace;
}
