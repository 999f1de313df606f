import {
  changeSetRequestSchema,
  changeSetResponseSchema,
  recordReadRequestSchema,
  recordReadResponseSchema,
} from '../../../shared/agent-api.ts';
import { readRecords } from '../services/agent-tools/index.ts';
import { readChangeSet, submitChangeSet } from '../services/change-sets/index.ts';
import { defineRoute, errorResponses, idempotencyKeyHeader, json } from './route.ts';

const errors = errorResponses({
  400: 'The request is invalid (VALIDATION_FAILED, MALFORMED_JSON, UNKNOWN_PROPERTY, INVALID_PROPERTY_VALUE); nothing was stored.',
  401: 'Missing or unknown agent token (UNAUTHENTICATED).',
  403: 'The agent is paused or revoked (AGENT_NOT_ACTIVE), or acts for a person without a delegation (DELEGATION_INVALID).',
  404: 'This agent submitted no change set with this id (NOT_FOUND); another agent’s change set answers the same.',
  409: 'No policy published yet (NO_ACTIVE_POLICY), or the same Idempotency-Key is in flight (IDEMPOTENCY_IN_PROGRESS).',
  413: 'The body is over the size limit (BODY_TOO_LARGE).',
  422: 'The Idempotency-Key was used for a different request (IDEMPOTENCY_KEY_REUSED).',
  423: 'A kill switch is engaged (KILL_SWITCH_ENGAGED); details say which and why.',
  429: 'A daily budget of the policy is used up, or a spend budget has less left than this request costs (BUDGET_REACHED); details say which.',
  502: 'The CRM refused our credentials or the request (CRM_AUTH_FAILED, CRM_REJECTED); its words are in the message.',
  503: 'The CRM is rate limiting or unavailable (CRM_RATE_LIMITED, CRM_UNAVAILABLE); retry later with the same Idempotency-Key.',
});

/** The agent API: submit a change set, read one back. Thin: authenticate, validate, call the service. */
export const agentRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/changesets',
    operationId: 'submitChangeSet',
    summary: 'Propose field changes on CRM records; the policy decides each one.',
    security: 'agent',
    headers: idempotencyKeyHeader,
    body: { schema: changeSetRequestSchema, what: 'The change set' },
    responses: {
      '201': { description: 'Decided (and the auto writes applied).', content: json(changeSetResponseSchema) },
      '200': {
        description: 'A replay of an earlier submission with the same Idempotency-Key.',
        content: json(changeSetResponseSchema),
      },
      ...errors(400, 401, 403, 409, 413, 422, 423, 429, 502, 503),
    },
    handle: async ({ caller: { agent, workspace }, headers, body, context: { deps } }, res) => {
      const { response, replayed, timings } = await submitChangeSet(deps, {
        agent,
        workspace,
        request: body,
        idempotencyKey: headers['idempotency-key'],
      });
      if (replayed) res.setHeader('Idempotent-Replayed', 'true');
      const serverTiming = Object.entries(timings).map(([name, ms]) => `${name};dur=${ms.toFixed(1)}`);
      if (serverTiming.length > 0) res.setHeader('Server-Timing', serverTiming.join(', '));
      res.status(replayed ? 200 : 201).json(response);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/changesets/{id}',
    operationId: 'getChangeSet',
    summary: 'Read back a change set this agent submitted, and every decision in it.',
    security: 'agent',
    params: { id: { rowOf: 'change set' } },
    responses: {
      '200': { description: 'The change set.', content: json(changeSetResponseSchema) },
      ...errors(401, 403, 404, 423),
    },
    handle: async ({ caller, params, context: { deps } }, res) => {
      res.json(await readChangeSet(deps, caller, params.id));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/records/read',
    operationId: 'readRecords',
    summary:
      'Read up to 100 records as the policy lets this agent’s role: some properties in full, some masked, the rest withheld; audited.',
    security: 'agent',
    body: { schema: recordReadRequestSchema, what: 'The read' },
    responses: {
      '200': { description: 'The records, masked as the policy says.', content: json(recordReadResponseSchema) },
      ...errors(400, 401, 403, 409, 413, 423, 429, 502, 503),
    },
    handle: async ({ caller, body, context: { deps } }, res) => {
      res.json(await readRecords(deps, caller, body));
    },
  }),
];
