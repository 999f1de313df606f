import { z } from 'zod';
import {
  governanceDecisionSchema,
  governanceListQuerySchema,
  governanceRequestViewSchema,
} from '../../../shared/admin-api.ts';
import { errorResponseSchema } from '../../../shared/agent-api.ts';

const DESCRIPTIONS: Record<number, string> = {
  400: 'The body or query is invalid (VALIDATION_FAILED, MALFORMED_JSON).',
  401: 'Missing or unknown admin token (UNAUTHENTICATED).',
  403: 'The person may not confirm: not an owner or RevOps admin, or the one who asked (FORBIDDEN); details.refusal says which.',
  404: 'No such request in this workspace (NOT_FOUND).',
  409: 'The request was already confirmed or cancelled (CONFLICT).',
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
const admin = [{ adminToken: [] }];
const decision = (operationId: string, summary: string) => ({
  post: {
    operationId,
    summary,
    security: admin,
    requestParams: { path: z.object({ id: z.uuid() }) },
    requestBody: { required: true, content: json(governanceDecisionSchema) },
    responses: {
      '200': { description: 'The request as it now stands.', content: json(governanceRequestViewSchema) },
      ...errors(400, 401, 403, 404, 409),
    },
  },
});

/** Dual control for governance itself (issue 5), merged into the OpenAPI document; these take the workspace's admin token. */
export const governanceOpenApiPaths = {
  '/v1/admin/governance-requests': {
    get: {
      operationId: 'listGovernanceRequests',
      summary:
        'Changes to governance waiting for (or settled by) a second admin: a workspace kill switch release, a tier lowered, a cap raised.',
      security: admin,
      requestParams: { query: governanceListQuerySchema },
      responses: {
        '200': {
          description: 'The requests.',
          content: json(z.object({ requests: z.array(governanceRequestViewSchema) })),
        },
        ...errors(400, 401),
      },
    },
  },
  '/v1/admin/governance-requests/{id}/confirm': decision(
    'confirmGovernanceRequest',
    'A second admin (owner or RevOps admin, not the requester) confirms; the change takes effect.',
  ),
  '/v1/admin/governance-requests/{id}/cancel': decision(
    'cancelGovernanceRequest',
    'Drop the request; nothing changes.',
  ),
};
