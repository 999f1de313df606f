import { hashToken } from '../../secrets.ts';
import { findWorkspaceByAdminTokenHash, findWorkspaceByPortal, listWorkspacePortals, type WorkspaceRow } from '../../store/workspace-store.ts';
import type { ServiceDeps } from '../common/index.ts';

export type { WorkspaceRow };

/** The workspace an admin token belongs to; tokens are kept only as hashes. */
export function findWorkspaceByAdminToken(deps: ServiceDeps, token: string): Promise<WorkspaceRow | undefined> {
  return findWorkspaceByAdminTokenHash(deps.db, hashToken(token));
}

export function findWorkspaceForPortal(deps: ServiceDeps, portalId: string): Promise<WorkspaceRow | undefined> {
  return findWorkspaceByPortal(deps.db, portalId);
}

/** Every connected workspace's CRM account id. */
export function listConnectedPortals(deps: ServiceDeps): Promise<{ id: string; hubspotPortalId: string }[]> {
  return listWorkspacePortals(deps.db);
}
