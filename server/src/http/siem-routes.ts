import { Router } from 'express';
import { createSiemDestinationSchema } from '../../../shared/siem-api.ts';
import type { Actor, ServiceDeps } from '../services/common/index.ts';
import { addSiemDestination, listWorkspaceSiemDestinations, removeSiemDestination } from '../services/siem/index.ts';
import { adminWorkspaceFromRequest } from './auth.ts';
import { parseInput } from './errors.ts';
import { idParam } from './params.ts';

const ADMIN: Actor = { type: 'admin', via: 'api', name: 'workspace-admin-token' };

/** Audit streaming (issue 22): the workspace's SIEM destinations and their delivery status; secrets go in, never out. */
export function siemRoutes(deps: ServiceDeps): Router {
  const router = Router();
  router.post('/v1/admin/siem-destinations', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const input = parseInput(createSiemDestinationSchema, req.body, 'The SIEM destination');
    res.status(201).json(await addSiemDestination(deps, workspace.id, input, ADMIN));
  });
  router.get('/v1/admin/siem-destinations', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json({ destinations: await listWorkspaceSiemDestinations(deps, workspace.id) });
  });
  router.delete('/v1/admin/siem-destinations/:id', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    await removeSiemDestination(deps, workspace.id, idParam(req.params.id, 'SIEM destination'), ADMIN);
    res.status(204).end();
  });
  return router;
}
