import { Router, type Response } from 'express';
import { createRollbackSchema, rollbackReportQuerySchema } from '../../../shared/rollback-api.ts';
import type { Actor, ServiceDeps } from '../services/common/index.ts';
import {
  dryRunRollback,
  startRollback,
  getRollback,
  rollbackReport,
  setRollbackPaused,
} from '../services/rollbacks/index.ts';
import { adminWorkspaceFromRequest } from './auth.ts';
import { parseInput } from './errors.ts';
import { idParam } from './params.ts';

const ADMIN: Actor = { type: 'admin', via: 'api', name: 'workspace-admin-token' };

/**
 * Rollbacks (issue 7). A dry run answers with the plan (200); a real one is stored and answered
 * at once (202) while the job runs it; the workspace is the admin token's, so another
 * workspace's batch or rollback is a 404 like an unknown one.
 */
export function rollbackRoutes(deps: ServiceDeps): Router {
  const router = Router();

  router.post('/v1/admin/rollbacks', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const request = parseInput(createRollbackSchema, req.body, 'The rollback');
    if (request.dryRun) res.json(await dryRunRollback(deps, workspace.id, request));
    else res.status(202).json(await startRollback(deps, workspace.id, request, ADMIN));
  });
  router.get('/v1/admin/rollbacks/:id', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json(await getRollback(deps, workspace.id, idParam(req.params.id, 'rollback')));
  });
  router.post('/v1/admin/rollbacks/:id/pause', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json(await setRollbackPaused(deps, workspace.id, idParam(req.params.id, 'rollback'), true, ADMIN));
  });
  router.post('/v1/admin/rollbacks/:id/resume', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json(await setRollbackPaused(deps, workspace.id, idParam(req.params.id, 'rollback'), false, ADMIN));
  });
  router.get('/v1/admin/rollbacks/:id/report', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const { format } = parseInput(rollbackReportQuerySchema, req.query, 'The report query');
    const id = idParam(req.params.id, 'rollback');
    const chunks = rollbackReport(deps, workspace.id, id, format);
    // The first chunk is produced before any header goes out, so an unknown rollback is still a plain 404.
    const first = await chunks.next();
    res.type(format === 'csv' ? 'text/csv' : 'application/json');
    res.setHeader('content-disposition', `attachment; filename="rollback-${id}.${format}"`);
    if (!first.done) res.write(first.value);
    await streamRest(res, chunks);
  });

  return router;
}

async function streamRest(res: Response, chunks: AsyncIterable<string>): Promise<void> {
  for await (const chunk of chunks) {
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}
