import { z } from 'zod';
import { errorResponseSchema } from '../../../shared/agent-api.ts';
import {
  createRollbackSchema,
  rollbackItemSchema,
  rollbackPlanSchema,
  rollbackReportQuerySchema,
  rollbackSchema,
} from '../../../shared/rollback-api.ts';

const DESCRIPTIONS: Record<number, string> = {
  400: 'The selector or query is invalid (VALIDATION_FAILED, MALFORMED_JSON).',
  401: 'Missing or unknown admin token (UNAUTHENTICATED).',
  404: 'Nothing in this workspace matches the selector, or no such rollback (NOT_FOUND); another workspace’s batch answers the same.',
  409: 'A rollback of the same batch (or selector) is still active, or the rollback is completed (CONFLICT); details.rollbackId names the active one.',
};
const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: DESCRIPTIONS[status] ?? 'Error',
        content: { 'application/json': { schema: errorResponseSchema } },
      },
    ]),
  );
const json = (schema: z.ZodType) => ({ 'application/json': { schema } });
const idParam = { path: z.object({ id: z.uuid() }) };
const admin = [{ adminToken: [] }];

/** Rollbacks (issue 7), merged into the OpenAPI document; these take the workspace's admin token. */
export const rollbackOpenApiPaths = {
  '/v1/admin/rollbacks': {
    post: {
      operationId: 'createRollback',
      summary:
        'Dry-run or start a rollback of selected applied changes; later edits by others are left alone unless forced.',
      security: admin,
      requestBody: { required: true, content: json(createRollbackSchema) },
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
    },
  },
  '/v1/admin/rollbacks/{id}': {
    get: {
      operationId: 'getRollback',
      summary: 'Status and progress: done / total, reverted, conflicts, failures.',
      security: admin,
      requestParams: idParam,
      responses: { '200': { description: 'The rollback.', content: json(rollbackSchema) }, ...errors(401, 404) },
    },
  },
  '/v1/admin/rollbacks/{id}/pause': {
    post: {
      operationId: 'pauseRollback',
      summary: 'Stop before the next CRM write; resume continues where it stopped.',
      security: admin,
      requestParams: idParam,
      responses: { '200': { description: 'Paused.', content: json(rollbackSchema) }, ...errors(401, 404, 409) },
    },
  },
  '/v1/admin/rollbacks/{id}/resume': {
    post: {
      operationId: 'resumeRollback',
      summary: 'Continue a paused rollback.',
      security: admin,
      requestParams: idParam,
      responses: { '200': { description: 'Running again.', content: json(rollbackSchema) }, ...errors(401, 404, 409) },
    },
  },
  '/v1/admin/rollbacks/{id}/report': {
    get: {
      operationId: 'getRollbackReport',
      summary: 'Every item with before, restored value, outcome and explanation, as CSV or JSON.',
      security: admin,
      requestParams: { ...idParam, query: rollbackReportQuerySchema },
      responses: {
        '200': {
          description: 'The report.',
          content: {
            'application/json': { schema: z.object({ rollback: rollbackSchema, items: z.array(rollbackItemSchema) }) },
            'text/csv': { schema: z.string() },
          },
        },
        ...errors(401, 404),
      },
    },
  },
};
