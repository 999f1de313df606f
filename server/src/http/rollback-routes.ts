import { z } from 'zod';
import {
  createRollbackSchema,
  rollbackItemSchema,
  rollbackPlanSchema,
  rollbackReportQuerySchema,
  rollbackSchema,
} from '../../../shared/rollback-api.ts';
import type { Actor } from '../services/common/index.ts';
import {
  dryRunRollback,
  getRollback,
  rollbackReport,
  setRollbackPaused,
  startRollback,
} from '../services/rollbacks/index.ts';
import { defineRoute, errorResponses, json, streamTo } from './route.ts';

const ADMIN: Actor = { type: 'admin', via: 'api', name: 'workspace-admin-token' };

const errors = errorResponses({
  400: 'The selector or query is invalid (VALIDATION_FAILED, MALFORMED_JSON).',
  401: 'Missing or unknown admin token (UNAUTHENTICATED).',
  404: 'Nothing in this workspace matches the selector, or no such rollback (NOT_FOUND); another workspace’s batch answers the same.',
  409: 'A rollback of the same batch (or selector) is still active, or the rollback is completed (CONFLICT); details.rollbackId names the active one.',
});
const rollback = { id: { rowOf: 'rollback' } };

/** Pausing and resuming differ only in which way they set the flag. */
const pauseOrResume = (paused: boolean) =>
  defineRoute({
    method: 'post',
    path: `/v1/admin/rollbacks/{id}/${paused ? 'pause' : 'resume'}`,
    operationId: paused ? 'pauseRollback' : 'resumeRollback',
    summary: paused
      ? 'Stop before the next CRM write; resume continues where it stopped.'
      : 'Continue a paused rollback.',
    security: 'admin',
    params: rollback,
    responses: {
      '200': { description: paused ? 'Paused.' : 'Running again.', content: json(rollbackSchema) },
      ...errors(401, 404, 409),
    },
    handle: async ({ caller: workspace, params, context: { deps } }, res) => {
      res.json(await setRollbackPaused(deps, workspace.id, params.id, paused, ADMIN));
    },
  });

/**
 * Rollbacks (issue 7). A dry run answers with the plan (200); a real one is stored and answered
 * at once (202) while the job runs it; the workspace is the admin token's, so another
 * workspace's batch or rollback is a 404 like an unknown one.
 */
export const rollbackRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/admin/rollbacks',
    operationId: 'createRollback',
    summary:
      'Dry-run or start a rollback of selected applied changes; later edits by others are left alone unless forced.',
    security: 'admin',
    body: { schema: createRollbackSchema, what: 'The rollback' },
    responses: {
      '200': {
        description: 'The dry run: counts and a sample; nothing written or stored.',
        content: json(rollbackPlanSchema),
      },
      '202': {
        description: 'Stored and started; follow it with GET /v1/admin/rollbacks/{id}.',
        content: json(rollbackSchema),
      },
      ...errors(400, 401, 404, 409),
    },
    handle: async ({ caller: workspace, body, context: { deps } }, res) => {
      if (body.dryRun) res.json(await dryRunRollback(deps, workspace.id, body));
      else res.status(202).json(await startRollback(deps, workspace.id, body, ADMIN));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/rollbacks/{id}',
    operationId: 'getRollback',
    summary: 'Status and progress: done / total, reverted, conflicts, failures.',
    security: 'admin',
    params: rollback,
    responses: { '200': { description: 'The rollback.', content: json(rollbackSchema) }, ...errors(401, 404) },
    handle: async ({ caller: workspace, params, context: { deps } }, res) => {
      res.json(await getRollback(deps, workspace.id, params.id));
    },
  }),
  pauseOrResume(true),
  pauseOrResume(false),
  defineRoute({
    method: 'get',
    path: '/v1/admin/rollbacks/{id}/report',
    operationId: 'getRollbackReport',
    summary: 'Every item with before, restored value, outcome and explanation, as CSV or JSON.',
    security: 'admin',
    params: rollback,
    query: { schema: rollbackReportQuerySchema, what: 'The report query' },
    responses: {
      '200': {
        description: 'The report.',
        content: {
          'application/json': { schema: z.object({ rollback: rollbackSchema, items: z.array(rollbackItemSchema) }) },
          'text/csv': { schema: z.string() },
        },
      },
      ...errors(400, 401, 404),
    },
    handle: async ({ caller: workspace, params: { id }, query: { format }, context: { deps } }, res) => {
      const chunks = rollbackReport(deps, workspace.id, id, format);
      // The first chunk is produced before any header goes out, so an unknown rollback is still a plain 404.
      const first = await chunks.next();
      res.type(format === 'csv' ? 'text/csv' : 'application/json');
      res.setHeader('content-disposition', `attachment; filename="rollback-${id}.${format}"`);
      if (!first.done) res.write(first.value);
      await streamTo(res, chunks);
    },
  }),
];
