import { z } from 'zod';
import {
  agentErrorRateSchema,
  qaListQuerySchema,
  qaReviewViewSchema,
  qaVerdictSchema,
} from '../../../shared/qa-api.ts';
import { findQaReviews, qaErrorRates, reviewQa } from '../services/change-sets/index.ts';
import { defineRoute, errorResponses, json } from './route.ts';

const errors = errorResponses({
  400: 'The body or query is invalid (VALIDATION_FAILED, MALFORMED_JSON).',
  401: 'Missing or unknown admin token (UNAUTHENTICATED).',
  403: 'The person may not review agents’ writes: only owners, RevOps admins and approvers may (APPROVAL_DECISION_FORBIDDEN).',
  404: 'No such review in this workspace (NOT_FOUND).',
  409: 'The write was already reviewed (APPROVAL_NOT_DECIDABLE).',
});

/** QA sampling of auto-applied writes (issue 5): the review queue, verdicts, and each agent's error rate. */
export const qaRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/admin/qa/reviews',
    operationId: 'listQaReviews',
    summary: 'The review queue: a share of each role’s auto-applied writes, sampled deterministically per change.',
    security: 'admin',
    query: { schema: qaListQuerySchema, what: 'The QA query' },
    responses: {
      '200': { description: 'The reviews.', content: json(z.object({ reviews: z.array(qaReviewViewSchema) })) },
      ...errors(400, 401),
    },
    handle: async ({ caller: workspace, query, context: { deps } }, res) => {
      res.json({
        reviews: await findQaReviews(deps, workspace.id, {
          status: query.status,
          agentId: query.agent,
          limit: query.limit,
        }),
      });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/qa/reviews/{id}/verdict',
    operationId: 'reviewQa',
    summary: 'Mark a sampled write correct or wrong; wrong reverts it through a rollback of that one change.',
    security: 'admin',
    params: { id: { rowOf: 'QA review' } },
    body: { schema: qaVerdictSchema, what: 'The verdict' },
    responses: {
      '200': {
        description: 'The review, with the rollback a wrong verdict started.',
        content: json(qaReviewViewSchema),
      },
      ...errors(400, 401, 403, 404, 409),
    },
    handle: async ({ caller: workspace, params, body, context: { deps } }, res) => {
      res.json(await reviewQa(deps, workspace, params.id, body));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/qa/error-rates',
    operationId: 'getQaErrorRates',
    summary: 'Each agent’s measured error rate over its reviewed writes.',
    security: 'admin',
    responses: {
      '200': {
        description: 'Per agent: open, correct and wrong reviews, and the error rate.',
        content: json(z.object({ agents: z.array(agentErrorRateSchema) })),
      },
      ...errors(401),
    },
    handle: async ({ caller: workspace, context: { deps } }, res) => {
      res.json({ agents: await qaErrorRates(deps, workspace.id) });
    },
  }),
];
