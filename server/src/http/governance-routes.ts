import { z } from 'zod';
import {
  governanceDecisionSchema,
  governanceListQuerySchema,
  governanceRequestViewSchema,
} from '../../../shared/admin-api.ts';
import { decideGovernanceRequest, findGovernanceRequests } from '../services/governance/index.ts';
import { defineRoute, errorResponses, json } from './route.ts';

const errors = errorResponses({
  400: 'The body or query is invalid (VALIDATION_FAILED, MALFORMED_JSON).',
  401: 'Missing or unknown admin token (UNAUTHENTICATED).',
  403: 'The person may not confirm: not an owner or RevOps admin, or the one who asked (FORBIDDEN); details.refusal says which.',
  404: 'No such request in this workspace (NOT_FOUND).',
  409: 'The request was already confirmed or cancelled (CONFLICT).',
});

const DECISION_SUMMARIES = {
  confirm: 'A second admin (owner or RevOps admin, not the requester) confirms; the change takes effect.',
  cancel: 'Drop the request; nothing changes.',
};

/** Dual control (issue 5): changes to governance waiting for a second admin, and their confirmation. */
export const governanceRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/admin/governance-requests',
    operationId: 'listGovernanceRequests',
    summary:
      'Changes to governance waiting for (or settled by) a second admin: a workspace kill switch release, a tier lowered, a cap raised.',
    security: 'admin',
    query: { schema: governanceListQuerySchema, what: 'The query' },
    responses: {
      '200': {
        description: 'The requests.',
        content: json(z.object({ requests: z.array(governanceRequestViewSchema) })),
      },
      ...errors(400, 401),
    },
    handle: async ({ caller: workspace, query, context: { deps } }, res) => {
      res.json({ requests: await findGovernanceRequests(deps, workspace.id, query.status) });
    },
  }),
  // One path per decision, so each is its own operation.
  ...(['confirm', 'cancel'] as const).map((decision) =>
    defineRoute({
      method: 'post',
      path: `/v1/admin/governance-requests/{id}/${decision}`,
      operationId: `${decision}GovernanceRequest`,
      summary: DECISION_SUMMARIES[decision],
      security: 'admin',
      params: { id: { rowOf: 'governance request' } },
      body: { schema: governanceDecisionSchema, what: 'The decision' },
      responses: {
        '200': { description: 'The request as it now stands.', content: json(governanceRequestViewSchema) },
        ...errors(400, 401, 403, 404, 409),
      },
      handle: async ({ caller: workspace, params, body: { actingUserId }, context: { deps } }, res) => {
        res.json(
          await decideGovernanceRequest(deps, {
            workspaceId: workspace.id,
            requestId: params.id,
            actingUserId,
            decision,
            via: 'admin_api',
          }),
        );
      },
    }),
  ),
];
