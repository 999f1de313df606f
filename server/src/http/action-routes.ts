import { z } from 'zod';
import {
  actionDecisionSchema,
  actionListQuerySchema,
  actionOutcomeRequestSchema,
  actionRequestSchema,
  actionViewSchema,
  verifyReleaseRequestSchema,
  verifyReleaseResponseSchema,
} from '../../../shared/action-api.ts';
import {
  findActions,
  getActionForAdmin,
  readOwnAction,
  reportActionOutcome,
  submitAction,
  verifyRelease,
} from '../services/actions/index.ts';
import { decideAction } from '../services/held/index.ts';
import { approvalErrors } from './approval-routes.ts';
import { defineRoute, errorResponse, errorResponses, idempotencyKeyHeader, json } from './route.ts';

const errors = errorResponses({
  400: 'The request is invalid (VALIDATION_FAILED, MALFORMED_JSON).',
  401: 'Missing or unknown agent token (UNAUTHENTICATED).',
  403: 'The agent is paused or revoked, acts for a person without a delegation, or sent a release token that does not match (FORBIDDEN).',
  404: 'No such action for this agent (NOT_FOUND).',
  409: 'No policy published yet, or the action is not in a state that takes this report (CONFLICT).',
  422: 'The Idempotency-Key was used for a different action (IDEMPOTENCY_KEY_REUSED).',
  423: 'A kill switch is engaged for this agent, this action kind or the workspace (KILL_SWITCH_ENGAGED).',
  429: 'A daily budget of the policy is used up, or a spend budget has less left than this action costs (BUDGET_REACHED); details say which.',
  502: 'The CRM refused our credentials or the request (CRM_AUTH_FAILED, CRM_REJECTED); its words are in the message.',
  503: 'The CRM is rate limiting or unavailable; retry with the same Idempotency-Key.',
});
const action = { id: { rowOf: 'action' } };

/**
 * Drafts (issue 5): agents submit actions, read them back once released, prove the release and
 * report outcomes; people list and decide the held ones (admin token, with `actingUserId`, as
 * for approvals until issue 8 signs requests from the record card).
 */
export const actionRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/actions',
    operationId: 'submitAction',
    summary:
      'Propose an email to send, or a task or note to create, on a CRM record; stop rules and then the policy decide it.',
    security: 'agent',
    headers: idempotencyKeyHeader,
    body: { schema: actionRequestSchema, what: 'The action' },
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
      ...errors(400, 401, 403, 409, 422, 423, 429, 502, 503),
    },
    handle: async ({ caller: { agent, workspace }, headers, body, context: { deps } }, res) => {
      const { view, replayed } = await submitAction(deps, {
        agent,
        workspace,
        request: body,
        idempotencyKey: headers['idempotency-key'],
      });
      if (replayed) res.setHeader('Idempotent-Replayed', 'true');
      res.status(replayed ? 200 : 201).json(view);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/actions/{id}',
    operationId: 'getAction',
    summary: 'Read an action; once an email is released, with the content to send and its release token.',
    security: 'agent',
    params: action,
    responses: {
      '200': { description: 'The action.', content: json(actionViewSchema) },
      ...errors(401, 403, 404, 423),
    },
    handle: async ({ caller: { agent, workspace }, params, context: { deps } }, res) => {
      res.json(await readOwnAction(deps, { agent, workspace, actionId: params.id }));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/actions/{id}/verify',
    operationId: 'verifyActionRelease',
    summary: 'Check that a release token is the one issued for this email, and what content it vouches for.',
    security: 'agent',
    params: action,
    body: { schema: verifyReleaseRequestSchema, what: 'The verification' },
    responses: {
      '200': { description: 'Whether the token is valid.', content: json(verifyReleaseResponseSchema) },
      ...errors(400, 401, 404),
      '403': errorResponse(
        'The calling agent is paused or revoked, or the token is right but the agent that drafted this email is (AGENT_NOT_ACTIVE).',
      ),
      '423': errorResponse(
        'A right token while a kill switch stops this email (KILL_SWITCH_ENGAGED): its agent, sending emails, its recipient, segment, template or evidence source; any call while the workspace switch suspends agent tokens.',
      ),
    },
    handle: async ({ caller: { workspace }, params, body, context: { deps } }, res) => {
      res.json(await verifyRelease(deps, workspace, params.id, body.releaseToken));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/actions/{id}/outcome',
    operationId: 'reportActionOutcome',
    summary:
      'Report what became of a released email (sent, bounced, failed with the release token; later replied or unsubscribed).',
    security: 'agent',
    params: action,
    body: { schema: actionOutcomeRequestSchema, what: 'The outcome' },
    responses: {
      '200': { description: 'The action with its outcomes.', content: json(actionViewSchema) },
      ...errors(400, 401, 403, 404, 409, 423),
    },
    handle: async ({ caller: { agent, workspace }, params, body, context: { deps } }, res) => {
      res.json(await reportActionOutcome(deps, { agent, workspace, actionId: params.id, request: body }));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/actions',
    operationId: 'listActions',
    summary: 'Drafts (emails, tasks, notes) agents proposed, whatever the policy decided, newest first.',
    security: 'admin',
    query: { schema: actionListQuerySchema, what: 'The actions query' },
    responses: {
      '200': { description: 'The drafts.', content: json(z.object({ actions: z.array(actionViewSchema) })) },
      ...approvalErrors(400, 401),
    },
    handle: async ({ caller: workspace, query, context: { deps } }, res) => {
      res.json({
        actions: await findActions(deps, workspace.id, {
          recordId: query.record,
          agentId: query.agent,
          statuses: query.status === undefined ? undefined : [query.status],
          limit: query.limit,
        }),
      });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/actions/{id}',
    operationId: 'getActionForAdmin',
    summary: 'One draft, with its content, edits, approvers and outcomes.',
    security: 'admin',
    params: action,
    responses: { '200': { description: 'The draft.', content: json(actionViewSchema) }, ...approvalErrors(401, 404) },
    handle: async ({ caller: workspace, params, context: { deps } }, res) => {
      res.json(await getActionForAdmin(deps, workspace.id, params.id));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/actions/{id}/decisions',
    operationId: 'decideAction',
    summary:
      'Approve (optionally editing the subject or body) or reject a held draft; an approved email is checked against the stop rules again, a task or note is created.',
    security: 'admin',
    params: action,
    body: { schema: actionDecisionSchema, what: 'The decision' },
    responses: {
      '200': { description: 'The draft as it now stands.', content: json(actionViewSchema) },
      ...approvalErrors(400, 401, 403, 404, 409),
    },
    handle: async ({ caller: workspace, params, body, context: { deps } }, res) => {
      res.json(await decideAction(deps, { workspace, actionId: params.id, request: body, via: 'admin_api' }));
    },
  }),
];
