import {
  agentSafetyViewSchema,
  changeAcceptanceSchema,
  regressionRunSchema,
  regressionSetSchema,
} from '../../../shared/agent-safety-api.ts';
import type { Actor } from '../services/common/index.ts';
import {
  acceptAgentChange,
  agentSafetyView,
  getRegressionSet,
  putRegressionSet,
  runRegressionSet,
} from '../services/governance/index.ts';
import { defineRoute, errorResponse, json } from './route.ts';

const ADMIN: Actor = { type: 'admin', via: 'api', name: 'workspace-admin-token' };

const UNAUTHENTICATED = errorResponse('Missing or unknown admin token (UNAUTHENTICATED).');
const AGENT_NOT_FOUND = errorResponse('No such agent in this workspace (NOT_FOUND).');
const INVALID = errorResponse('The body is invalid (VALIDATION_FAILED, MALFORMED_JSON).');
const agent = { id: { rowOf: 'agent' } };

/** Safe re-enable and gates on change (issue 21): an agent's regression set, its safe mode and the changes people accept. */
export const agentSafetyRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/admin/agents/{id}/regression-set',
    operationId: 'getRegressionSet',
    summary: 'The cases the agent must pass before a release from a kill trigger.',
    security: 'admin',
    params: agent,
    responses: {
      '200': { description: 'The set.', content: json(regressionSetSchema) },
      '401': UNAUTHENTICATED,
      '404': AGENT_NOT_FOUND,
    },
    handle: async ({ caller: workspace, params, context: { deps } }, res) => {
      res.json(await getRegressionSet(deps, workspace.id, params.id));
    },
  }),
  defineRoute({
    method: 'put',
    path: '/v1/admin/agents/{id}/regression-set',
    operationId: 'putRegressionSet',
    summary: 'Replace the agent’s regression set whole (audited).',
    security: 'admin',
    params: agent,
    body: { schema: regressionSetSchema, what: 'The regression set' },
    responses: {
      '200': { description: 'The set as stored.', content: json(regressionSetSchema) },
      '400': INVALID,
      '401': UNAUTHENTICATED,
      '404': AGENT_NOT_FOUND,
    },
    handle: async ({ caller: workspace, params, body, context: { deps } }, res) => {
      res.json(await putRegressionSet(deps, workspace.id, params.id, body, ADMIN));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/agents/{id}/regression-runs',
    operationId: 'runRegressionSet',
    summary:
      'Decide the agent’s cases and its recent rejected writes under the policy in force, and say what passes and what fails; changes nothing.',
    security: 'admin',
    params: agent,
    responses: {
      '200': { description: 'The run.', content: json(regressionRunSchema) },
      '401': UNAUTHENTICATED,
      '404': AGENT_NOT_FOUND,
      '409': errorResponse('No policy published yet (NO_ACTIVE_POLICY).'),
    },
    handle: async ({ caller: workspace, params, context: { deps } }, res) => {
      res.json(await runRegressionSet(deps, workspace.id, params.id));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/agents/{id}/safety',
    operationId: 'getAgentSafety',
    summary: 'The agent’s safe mode, prompt hashes and daily volume, and what holds its writes now.',
    security: 'admin',
    params: agent,
    responses: {
      '200': { description: 'The agent’s safety state.', content: json(agentSafetyViewSchema) },
      '401': UNAUTHENTICATED,
      '404': AGENT_NOT_FOUND,
    },
    handle: async ({ caller: workspace, params, context: { deps } }, res) => {
      res.json(await agentSafetyView(deps, workspace.id, params.id));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/agents/{id}/change-acceptances',
    operationId: 'acceptAgentChange',
    summary:
      'Accept the agent’s new prompt hash, or its volume today, so its writes are no longer held for it (audited).',
    security: 'admin',
    params: agent,
    body: { schema: changeAcceptanceSchema, what: 'The acceptance' },
    responses: {
      '200': { description: 'The agent’s safety state after it.', content: json(agentSafetyViewSchema) },
      '400': INVALID,
      '401': UNAUTHENTICATED,
      '404': AGENT_NOT_FOUND,
      '409': errorResponse('No new prompt hash waits to be accepted (CONFLICT).'),
    },
    handle: async ({ caller: workspace, params, body, context: { deps } }, res) => {
      res.json(await acceptAgentChange(deps, workspace.id, params.id, body, ADMIN));
    },
  }),
];
