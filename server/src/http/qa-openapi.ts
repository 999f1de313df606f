import { z } from 'zod';
import { errorResponseSchema } from '../../../shared/agent-api.ts';
import {
  agentErrorRateSchema,
  qaListQuerySchema,
  qaReviewViewSchema,
  qaVerdictSchema,
} from '../../../shared/qa-api.ts';

const DESCRIPTIONS: Record<number, string> = {
  400: 'The body or query is invalid (VALIDATION_FAILED, MALFORMED_JSON).',
  401: 'Missing or unknown admin token (UNAUTHENTICATED).',
  403: 'The person may not review agents’ writes: only owners, RevOps admins and approvers may (APPROVAL_DECISION_FORBIDDEN).',
  404: 'No such review in this workspace (NOT_FOUND).',
  409: 'The write was already reviewed (APPROVAL_NOT_DECIDABLE).',
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

/** QA sampling of auto-applied writes (issue 5), merged into the OpenAPI document; these take the workspace's admin token. */
export const qaOpenApiPaths = {
  '/v1/admin/qa/reviews': {
    get: {
      operationId: 'listQaReviews',
      summary: 'The review queue: a share of each role’s auto-applied writes, sampled deterministically per change.',
      security: admin,
      requestParams: { query: qaListQuerySchema },
      responses: {
        '200': { description: 'The reviews.', content: json(z.object({ reviews: z.array(qaReviewViewSchema) })) },
        ...errors(400, 401),
      },
    },
  },
  '/v1/admin/qa/reviews/{id}/verdict': {
    post: {
      operationId: 'reviewQa',
      summary: 'Mark a sampled write correct or wrong; wrong reverts it through a rollback of that one change.',
      security: admin,
      requestParams: { path: z.object({ id: z.uuid() }) },
      requestBody: { required: true, content: json(qaVerdictSchema) },
      responses: {
        '200': {
          description: 'The review, with the rollback a wrong verdict started.',
          content: json(qaReviewViewSchema),
        },
        ...errors(400, 401, 403, 404, 409),
      },
    },
  },
  '/v1/admin/qa/error-rates': {
    get: {
      operationId: 'getQaErrorRates',
      summary: 'Each agent’s measured error rate over its reviewed writes.',
      security: admin,
      responses: {
        '200': {
          description: 'Per agent: open, correct and wrong reviews, and the error rate.',
          content: json(z.object({ agents: z.array(agentErrorRateSchema) })),
        },
        ...errors(401),
      },
    },
  },
};
