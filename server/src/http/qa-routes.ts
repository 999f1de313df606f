import { Router } from 'express';
import { qaListQuerySchema, qaVerdictSchema } from '../../../shared/qa-api.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { findQaReviews, qaErrorRates, reviewQa } from '../services/change-sets/index.ts';
import { adminWorkspaceFromRequest } from './auth.ts';
import { parseInput } from './errors.ts';
import { idParam } from './params.ts';

/** QA sampling of auto-applied writes (issue 5): the review queue, verdicts, and each agent's error rate. */
export function qaRoutes(deps: ServiceDeps): Router {
  const router = Router();
  router.get('/v1/admin/qa/reviews', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const query = parseInput(qaListQuerySchema, req.query, 'The QA query');
    res.json({
      reviews: await findQaReviews(deps, workspace.id, {
        status: query.status,
        agentId: query.agent,
        limit: query.limit,
      }),
    });
  });
  router.post('/v1/admin/qa/reviews/:id/verdict', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json(
      await reviewQa(
        deps,
        workspace,
        idParam(req.params.id, 'QA review'),
        parseInput(qaVerdictSchema, req.body, 'The verdict'),
      ),
    );
  });
  router.get('/v1/admin/qa/error-rates', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json({ agents: await qaErrorRates(deps, workspace.id) });
  });
  return router;
}
