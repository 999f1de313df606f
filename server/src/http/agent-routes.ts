import { Router } from 'express';
import { z } from 'zod';
import { changeSetRequestSchema } from '../../../shared/agent-api.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { loadChangeSetView, submitChangeSet } from '../services/change-sets/index.ts';
import { agentFromRequest } from './auth.ts';
import { validationError } from './errors.ts';
import { idParam } from './params.ts';

const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
  .optional();

/** The agent API: submit a change set, read one back. Thin: authenticate, validate, call the service. */
export function agentRoutes(deps: ServiceDeps): Router {
  const router = Router();

  router.post('/v1/changesets', async (req, res) => {
    const { agent, workspace } = await agentFromRequest(deps, req);
    const key = idempotencyKeySchema.safeParse(req.header('idempotency-key'));
    if (!key.success) throw validationError(key.error, 'The Idempotency-Key header');
    const body = changeSetRequestSchema.safeParse(req.body);
    if (!body.success) throw validationError(body.error, 'The change set');
    const { response, replayed, timings } = await submitChangeSet(deps, {
      agent,
      workspace,
      request: body.data,
      idempotencyKey: key.data,
    });
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    const serverTiming = Object.entries(timings).map(([name, ms]) => `${name};dur=${ms.toFixed(1)}`);
    if (serverTiming.length > 0) res.setHeader('Server-Timing', serverTiming.join(', '));
    res.status(replayed ? 200 : 201).json(response);
  });

  router.get('/v1/changesets/:id', async (req, res) => {
    const { workspace } = await agentFromRequest(deps, req);
    res.json(await loadChangeSetView(deps.db, workspace.id, idParam(req.params.id, 'change set')));
  });

  return router;
}
