import { z } from 'zod';
import {
  actionOutcomeRequestSchema,
  actionRequestSchema,
  actionViewSchema,
  verifyReleaseRequestSchema,
  verifyReleaseResponseSchema,
} from '../../../shared/action-api.ts';
import { errorResponseSchema } from '../../../shared/agent-api.ts';

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

const DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid (VALIDATION_FAILED, MALFORMED_JSON).',
  401: 'Missing or unknown agent token (UNAUTHENTICATED).',
  403: 'The agent is paused or revoked, acts for a person without a delegation, or sent a release token that does not match (FORBIDDEN).',
  404: 'No such action for this agent (NOT_FOUND).',
  409: 'No policy published yet, or the action is not in a state that takes this report (CONFLICT).',
  422: 'The Idempotency-Key was used for a different action (IDEMPOTENCY_KEY_REUSED).',
  423: 'A kill switch is engaged for this agent, this action kind or the workspace (KILL_SWITCH_ENGAGED).',
  503: 'The CRM is rate limiting or unavailable; retry with the same Idempotency-Key.',
};

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });
const idParam = { path: z.object({ id: z.uuid() }) };

/** The agent's side of drafts (issue 5), merged into the agent API's OpenAPI document. */
export const actionOpenApiPaths = {
  '/v1/actions': {
    post: {
      operationId: 'submitAction',
      summary:
        'Propose an email to send, or a task or note to create, on a CRM record; stop rules and then the policy decide it.',
      requestParams: { header: z.object({ 'idempotency-key': z.string().max(200).optional() }) },
      requestBody: { required: true, content: json(actionRequestSchema) },
      responses: {
        '201': {
          description:
            'Decided: refused (with reasons), pending for people, or released (an auto task or note is created at once).',
          content: json(actionViewSchema),
        },
        '200': {
          description: 'A replay of an earlier submission with the same Idempotency-Key.',
          content: json(actionViewSchema),
        },
        ...errors(400, 401, 403, 409, 422, 423, 503),
      },
    },
  },
  '/v1/actions/{id}': {
    get: {
      operationId: 'getAction',
      summary: 'Read an action; once an email is released, with the content to send and its release token.',
      requestParams: idParam,
      responses: {
        '200': { description: 'The action.', content: json(actionViewSchema) },
        ...errors(401, 403, 404, 423),
      },
    },
  },
  '/v1/actions/{id}/verify': {
    post: {
      operationId: 'verifyActionRelease',
      summary: 'Check that a release token is the one issued for this email, and what content it vouches for.',
      requestParams: idParam,
      requestBody: { required: true, content: json(verifyReleaseRequestSchema) },
      responses: {
        '200': { description: 'Whether the token is valid.', content: json(verifyReleaseResponseSchema) },
        ...errors(400, 401, 403, 404),
      },
    },
  },
  '/v1/actions/{id}/outcome': {
    post: {
      operationId: 'reportActionOutcome',
      summary:
        'Report what became of a released email (sent, bounced, failed with the release token; later replied or unsubscribed).',
      requestParams: idParam,
      requestBody: { required: true, content: json(actionOutcomeRequestSchema) },
      responses: {
        '200': { description: 'The action with its outcomes.', content: json(actionViewSchema) },
        ...errors(400, 401, 403, 404, 409),
      },
    },
  },
};
