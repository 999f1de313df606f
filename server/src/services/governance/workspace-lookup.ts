import { findWorkspaceByPortal, listWorkspacePortals, type WorkspaceRow } from '../../store/workspace-store.ts';
import type { ServiceDeps } from '../common/index.ts';

export type { WorkspaceRow };

export function findWorkspaceForPortal(deps: ServiceDeps, portalId: string): Promise<WorkspaceRow | undefined> {
  return findWorkspaceByPortal(deps.db, portalId);
}

/** Every connected workspace's CRM account id. */
export function listConnectedPortals(deps: ServiceDeps): Promise<{ id: string; hubspotPortalId: string }[]> {
  return listWorkspacePortals(deps.db);
}
