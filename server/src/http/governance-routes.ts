import { Router } from 'express';
import { z } from 'zod';
import { governanceDecisionSchema, governanceListQuerySchema } from '../../../shared/admin-api.ts';
import { AppError } from '../errors.ts';
import { decideGovernanceRequest, findGovernanceRequests } from '../services/governance/index.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { adminWorkspaceFromRequest } from './auth.ts';
import { parseInput } from './errors.ts';

/** Dual control (issue 5): changes to governance waiting for a second admin, and their confirmation. */
export function governanceRoutes(deps: ServiceDeps): Router {
  const router = Router();
  router.get('/v1/admin/governance-requests', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json({
      requests: await findGovernanceRequests(
        deps,
        workspace.id,
        parseInput(governanceListQuerySchema, req.query, 'The query').status,
      ),
    });
  });
  router.post('/v1/admin/governance-requests/:id/:decision', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const decision = req.params.decision;
    if ((decision !== 'confirm' && decision !== 'cancel') || !z.uuid().safeParse(req.params.id).success)
      throw new AppError('NOT_FOUND', `No route ${req.method} ${req.path}.`);
    const { actingUserId } = parseInput(governanceDecisionSchema, req.body, 'The decision');
    res.json(
      await decideGovernanceRequest(deps, {
        workspaceId: workspace.id,
        requestId: req.params.id,
        actingUserId,
        decision,
        via: 'admin_api',
      }),
    );
  });
  return router;
}
