import { z } from 'zod';
import { createDocument } from 'zod-openapi';
import { changeSetRequestSchema, changeSetResponseSchema, errorResponseSchema } from '../../../shared/agent-api.ts';
import { actionOpenApiPaths } from './action-openapi.ts';
import { adminOpenApiPaths } from './admin-openapi.ts';
import { approvalOpenApiPaths } from './approval-openapi.ts';
import { governanceOpenApiPaths } from './governance-openapi.ts';
import { qaOpenApiPaths } from './qa-openapi.ts';
import { rollbackOpenApiPaths } from './rollback-openapi.ts';
import { siemOpenApiPaths } from './siem-openapi.ts';

const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: ERROR_DESCRIPTIONS[status] ?? 'Error',
        content: { 'application/json': { schema: errorResponseSchema } },
      },
    ]),
  );

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid (VALIDATION_FAILED, MALFORMED_JSON, UNKNOWN_PROPERTY, INVALID_PROPERTY_VALUE); nothing was stored.',
  401: 'Missing or unknown agent token (UNAUTHENTICATED).',
  403: 'The agent is paused or revoked (AGENT_NOT_ACTIVE), or acts for a person without a delegation (DELEGATION_INVALID).',
  404: 'No such change set in this workspace (NOT_FOUND).',
  409: 'No policy published yet (NO_ACTIVE_POLICY), or the same Idempotency-Key is in flight (IDEMPOTENCY_IN_PROGRESS).',
  413: 'The body is over the size limit (BODY_TOO_LARGE).',
  422: 'The Idempotency-Key was used for a different request (IDEMPOTENCY_KEY_REUSED).',
  423: 'A kill switch is engaged (KILL_SWITCH_ENGAGED); details say which and why.',
  503: 'The CRM is rate limiting or unavailable (CRM_RATE_LIMITED, CRM_UNAVAILABLE); retry later with the same Idempotency-Key.',
};

/**
 * The agent API and every admin route, as OpenAPI 3.1,
 * generated from the same zod schemas that validate requests, so agent frameworks can load it as tools.
 */
export function openApiDocument(serverUrl: string) {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Agent Governance — agent API',
      version: '1.0.0',
      description:
        'Submit CRM field changes and drafts for governance. Each record × property gets a decision (applied, pending_approval, denied, failed) with stable reason codes. The /v1/admin routes (admin token) publish policies, manage agents, delegations and kill switches, set up the CRM, verify and export the audit, decide approvals, review QA samples, confirm dual-control requests and roll back.',
    },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        agentToken: { type: 'http', scheme: 'bearer' },
        adminToken: { type: 'http', scheme: 'bearer' },
      },
    },
    security: [{ agentToken: [] }],
    paths: {
      '/v1/changesets': {
        post: {
          operationId: 'submitChangeSet',
          summary: 'Propose field changes on CRM records; the policy decides each one.',
          requestParams: {
            header: z.object({
              'idempotency-key': z.string().max(200).optional().meta({
                description: 'Repeat it on a retry: the first answer is returned and nothing is written twice.',
              }),
            }),
          },
          requestBody: { required: true, content: { 'application/json': { schema: changeSetRequestSchema } } },
          responses: {
            '201': {
              description: 'Decided (and the auto writes applied).',
              content: { 'application/json': { schema: changeSetResponseSchema } },
            },
            '200': {
              description: 'A replay of an earlier submission with the same Idempotency-Key.',
              content: { 'application/json': { schema: changeSetResponseSchema } },
            },
            ...errors(400, 401, 403, 409, 413, 422, 423, 503),
          },
        },
      },
      '/v1/changesets/{id}': {
        get: {
          operationId: 'getChangeSet',
          summary: 'Read a change set and every decision in it.',
          requestParams: { path: z.object({ id: z.uuid() }) },
          responses: {
            '200': {
              description: 'The change set.',
              content: { 'application/json': { schema: changeSetResponseSchema } },
            },
            ...errors(401, 403, 404),
          },
        },
      },
      ...adminOpenApiPaths,
      ...actionOpenApiPaths,
      ...approvalOpenApiPaths,
      ...qaOpenApiPaths,
      ...governanceOpenApiPaths,
      ...rollbackOpenApiPaths,
      ...siemOpenApiPaths,
    },
  });
}
