import { Router } from 'express';
import { z } from 'zod';
import {
  actionDecisionSchema,
  actionListQuerySchema,
  actionOutcomeRequestSchema,
  actionRequestSchema,
  verifyReleaseRequestSchema,
} from '../../../shared/action-api.ts';
import {
  findActions,
  getActionForAdmin,
  readOwnAction,
  reportActionOutcome,
  submitAction,
  verifyRelease,
} from '../services/actions/index.ts';
import { decideAction } from '../services/held/index.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { adminWorkspaceFromRequest, agentFromRequest } from './auth.ts';
import { parseInput } from './errors.ts';
import { idParam } from './params.ts';

const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
  .optional();

/**
 * Drafts (issue 5): agents submit actions, read them back once released, prove the release and
 * report outcomes; people list and decide the held ones (admin token, with `actingUserId`, as
 * for approvals until issue 8 signs requests from the record card).
 */
export function actionRoutes(deps: ServiceDeps): Router {
  const router = Router();

  router.post('/v1/actions', async (req, res) => {
    const { agent, workspace } = await agentFromRequest(deps, req);
    const idempotencyKey = parseInput(
      idempotencyKeySchema,
      req.header('idempotency-key'),
      'The Idempotency-Key header',
    );
    const request = parseInput(actionRequestSchema, req.body, 'The action');
    const { view, replayed } = await submitAction(deps, { agent, workspace, request, idempotencyKey });
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(replayed ? 200 : 201).json(view);
  });

  router.get('/v1/actions/:id', async (req, res) => {
    const { agent, workspace } = await agentFromRequest(deps, req);
    res.json(await readOwnAction(deps, { agent, workspace, actionId: idParam(req.params.id, 'action') }));
  });

  router.post('/v1/actions/:id/verify', async (req, res) => {
    const { workspace } = await agentFromRequest(deps, req);
    const { releaseToken } = parseInput(verifyReleaseRequestSchema, req.body, 'The verification');
    res.json(await verifyRelease(deps, workspace.id, idParam(req.params.id, 'action'), releaseToken));
  });

  router.post('/v1/actions/:id/outcome', async (req, res) => {
    const { agent, workspace } = await agentFromRequest(deps, req);
    const request = parseInput(actionOutcomeRequestSchema, req.body, 'The outcome');
    res.json(
      await reportActionOutcome(deps, { agent, workspace, actionId: idParam(req.params.id, 'action'), request }),
    );
  });

  router.get('/v1/admin/actions', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const query = parseInput(actionListQuerySchema, req.query, 'The actions query');
    res.json({
      actions: await findActions(deps, workspace.id, {
        recordId: query.record,
        agentId: query.agent,
        statuses: query.status === undefined ? undefined : [query.status],
        limit: query.limit,
      }),
    });
  });

  router.get('/v1/admin/actions/:id', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json(await getActionForAdmin(deps, workspace.id, idParam(req.params.id, 'action')));
  });

  router.post('/v1/admin/actions/:id/decisions', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const request = parseInput(actionDecisionSchema, req.body, 'The decision');
    res.json(
      await decideAction(deps, { workspace, actionId: idParam(req.params.id, 'action'), request, via: 'admin_api' }),
    );
  });

  return router;
}
