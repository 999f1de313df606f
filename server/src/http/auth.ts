import type { Request } from 'express';
import { AppError } from '../errors.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import {
  authenticateAdmin,
  authenticateAgent,
  type AuthenticatedAgent,
  type WorkspaceRow,
} from '../services/governance/index.ts';

function bearer(req: Request): string {
  const header = req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw new AppError('UNAUTHENTICATED', 'Send the token as "Authorization: Bearer <token>".');
  return match[1];
}

export function agentFromRequest(deps: ServiceDeps, req: Request): Promise<AuthenticatedAgent> {
  return authenticateAgent(deps, bearer(req));
}

/** Admin tokens belong to one workspace; the workspace comes from the token, never from the URL or body. */
export function adminWorkspaceFromRequest(deps: ServiceDeps, req: Request): Promise<WorkspaceRow> {
  return authenticateAdmin(deps, bearer(req));
}
