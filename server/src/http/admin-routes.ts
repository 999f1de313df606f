import { z } from 'zod';
import {
  AGENT_STATUS_AFTER,
  activePolicySchema,
  agentStatusChangeSchema,
  agentViewSchema,
  auditExportQuerySchema,
  auditVerificationSchema,
  auditVerifyRequestSchema,
  bootstrapResultSchema,
  connectCrmSchema,
  crmConnectionViewSchema,
  crmParamSchema,
  createAgentSchema,
  createDelegationSchema,
  createdAgentSchema,
  delegationViewSchema,
  clearRecordReviewSchema,
  killSwitchChangeSchema,
  killSwitchViewSchema,
  killTriggerDrillResultSchema,
  killTriggerDrillSchema,
  recordReviewQuerySchema,
  recordReviewViewSchema,
  policyVersionSchema,
  publishedPolicySchema,
} from '../../../shared/admin-api.ts';
import { policySchema } from '../../../shared/policy.ts';
import { AppError } from '../errors.ts';
import type { Actor } from '../services/common/index.ts';
import {
  activePolicy,
  bootstrapWorkspace,
  clearRecordReview,
  connectCrm,
  disconnectCrm,
  createAgent,
  createDelegation,
  drillKillTrigger,
  endDelegation,
  exportAudit,
  listLiveDelegations,
  listWorkspaceAgents,
  listRecordReviews,
  listWorkspaceKillSwitches,
  policyHistory,
  publishPolicy,
  setAgentStatus,
  setKillSwitch,
  verifyAudit,
} from '../services/governance/index.ts';
import { defineRoute, errorResponse, json, streamTo } from './route.ts';
import { readableMessage } from '../../../shared/zod-issues.ts';

const ADMIN: Actor = { type: 'admin', via: 'api', name: 'workspace-admin-token' };

const INVALID = errorResponse('The body or query is invalid (VALIDATION_FAILED, MALFORMED_JSON).');
const UNAUTHENTICATED = errorResponse('Missing or unknown admin token (UNAUTHENTICATED).');
const AGENT_NOT_FOUND = errorResponse('No such agent in this workspace (NOT_FOUND).');
const NO_POLICY = errorResponse('No policy published yet (NO_ACTIVE_POLICY).');
const SECOND_ADMIN = errorResponse(
  'The policy in force puts this change under dual control (SECOND_ADMIN_REQUIRED): it waits as a governance request, details.requestId, for a second admin to confirm.',
);
const agent = { id: { rowOf: 'agent' } };

const AGENT_STATUS_SUMMARIES: Record<z.infer<typeof agentStatusChangeSchema>, string> = {
  pause: 'Stop the agent acting until resumed; its submissions answer 403 AGENT_NOT_ACTIVE.',
  resume: 'Let a paused agent act again.',
  revoke: 'End the agent for good: a leaked token never works again.',
};

/** One path per status change, so each is its own operation. */
const agentStatusRoutes = agentStatusChangeSchema.options.map((action) =>
  defineRoute({
    method: 'post',
    path: `/v1/admin/agents/{id}/${action}`,
    operationId: `${action}Agent`,
    summary: AGENT_STATUS_SUMMARIES[action],
    security: 'admin',
    params: agent,
    responses: {
      '200': { description: 'The agent as it now stands.', content: json(agentViewSchema) },
      '401': UNAUTHENTICATED,
      '404': AGENT_NOT_FOUND,
      '409': errorResponse('The agent is revoked and cannot be paused or resumed (CONFLICT).'),
    },
    handle: async ({ caller: workspace, params, context: { deps } }, res) => {
      res.json(await setAgentStatus(deps, workspace.id, params.id, AGENT_STATUS_AFTER[action], ADMIN));
    },
  }),
);

/** The admin API the settings page and scripts use: policies, agents, kill switches, setup and the audit. */
export const adminRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/admin/policies',
    operationId: 'publishPolicy',
    summary: 'Publish the next immutable policy version; it is in force for the next submission.',
    security: 'admin',
    body: { schema: policySchema, parsedBy: 'service' },
    responses: {
      '201': {
        description:
          'Published. `warnings` names what the policy names that the CRM does not have yet (HubSpot: `unknown_property`); absent when there is none, or the CRM could not be asked.',
        content: json(publishedPolicySchema),
      },
      '400': errorResponse(
        'The policy is not valid (POLICY_INVALID, details.issues), or the body is not JSON (MALFORMED_JSON).',
      ),
      '401': UNAUTHENTICATED,
      '409': SECOND_ADMIN,
    },
    handle: async ({ caller: workspace, body, context: { deps } }, res) => {
      res.status(201).json(await publishPolicy(deps, workspace.id, body, ADMIN));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/policies',
    operationId: 'listPolicyVersions',
    summary: 'Every published version, newest first.',
    security: 'admin',
    responses: {
      '200': { description: 'The versions.', content: json(z.object({ versions: z.array(policyVersionSchema) })) },
      '401': UNAUTHENTICATED,
    },
    handle: async ({ caller: workspace, context: { deps } }, res) => {
      res.json({ versions: await policyHistory(deps, workspace.id) });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/policies/active',
    operationId: 'getActivePolicy',
    summary: 'The policy in force: the newest version.',
    security: 'admin',
    responses: {
      '200': { description: 'The version and its document.', content: json(activePolicySchema) },
      '401': UNAUTHENTICATED,
      '409': NO_POLICY,
    },
    handle: async ({ caller: workspace, context: { deps } }, res) => {
      res.json(await activePolicy(deps.db, workspace.id));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/agents',
    operationId: 'createAgent',
    summary: 'Create an agent with a role; its bearer token is answered once.',
    security: 'admin',
    body: { schema: createAgentSchema, what: 'The agent' },
    responses: {
      '201': { description: 'The agent and its token.', content: json(createdAgentSchema) },
      '400': INVALID,
      '401': UNAUTHENTICATED,
      '409': errorResponse('An agent of that name exists in this workspace (CONFLICT).'),
    },
    handle: async ({ caller: workspace, body, context: { deps } }, res) => {
      res.status(201).json(await createAgent(deps, workspace.id, body, ADMIN));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/agents',
    operationId: 'listAgents',
    summary: 'The workspace’s agents, with their status.',
    security: 'admin',
    responses: {
      '200': { description: 'The agents.', content: json(z.object({ agents: z.array(agentViewSchema) })) },
      '401': UNAUTHENTICATED,
    },
    handle: async ({ caller: workspace, context: { deps } }, res) => {
      res.json({ agents: await listWorkspaceAgents(deps, workspace.id) });
    },
  }),
  ...agentStatusRoutes,
  defineRoute({
    method: 'post',
    path: '/v1/admin/agents/{id}/delegations',
    operationId: 'createDelegation',
    summary: 'Let the agent act for a CRM user (onBehalfOf) until expiresAt; the audit names both.',
    security: 'admin',
    params: agent,
    body: { schema: createDelegationSchema, what: 'The delegation' },
    responses: {
      '201': { description: 'The delegation.', content: json(delegationViewSchema) },
      '400': errorResponse('The body is invalid, or expiresAt is not in the future (VALIDATION_FAILED).'),
      '401': UNAUTHENTICATED,
      '404': AGENT_NOT_FOUND,
    },
    handle: async ({ caller: workspace, params, body, context: { deps } }, res) => {
      res
        .status(201)
        .json(
          await createDelegation(
            deps,
            workspace.id,
            { agentId: params.id, crmUserId: body.crmUserId, expiresAt: new Date(body.expiresAt) },
            ADMIN,
          ),
        );
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/delegations',
    operationId: 'listDelegations',
    summary: 'The delegations in force (not expired, not ended), soonest to end first.',
    security: 'admin',
    responses: {
      '200': {
        description: 'The delegations in force.',
        content: json(z.object({ delegations: z.array(delegationViewSchema) })),
      },
      '401': UNAUTHENTICATED,
    },
    handle: async ({ caller: workspace, context: { deps } }, res) => {
      res.json({ delegations: await listLiveDelegations(deps, workspace.id) });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/delegations/{id}/revoke',
    operationId: 'revokeDelegation',
    summary:
      'End a delegation now: the agent may no longer act for the person, and emails drafted for them no longer verify. Ending one already ended answers it unchanged.',
    security: 'admin',
    params: { id: { rowOf: 'delegation' } },
    responses: {
      '200': { description: 'The delegation, with revokedAt.', content: json(delegationViewSchema) },
      '401': UNAUTHENTICATED,
      '404': errorResponse('No such delegation in this workspace (NOT_FOUND).'),
      '409': errorResponse('The delegation has already expired (CONFLICT).'),
    },
    handle: async ({ caller: workspace, params, context: { deps } }, res) => {
      res.json(await endDelegation(deps, workspace.id, params.id, ADMIN));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/kill-switches',
    operationId: 'listKillSwitches',
    summary: 'Every kill switch ever set in the workspace, engaged or released.',
    security: 'admin',
    responses: {
      '200': {
        description: 'The switches.',
        content: json(z.object({ killSwitches: z.array(killSwitchViewSchema) })),
      },
      '401': UNAUTHENTICATED,
    },
    handle: async ({ caller: workspace, context: { deps } }, res) => {
      res.json({ killSwitches: await listWorkspaceKillSwitches(deps, workspace.id) });
    },
  }),
  defineRoute({
    method: 'put',
    path: '/v1/admin/kill-switches',
    operationId: 'setKillSwitch',
    summary:
      'Engage or release a kill switch: the workspace’s, an agent’s, an action kind’s, a segment’s (a CRM list or a record condition), a recipient domain’s, a template family’s or an evidence source’s; it holds from the next submission and CRM call.',
    security: 'admin',
    body: { schema: killSwitchChangeSchema, what: 'The kill switch change' },
    responses: {
      '200': { description: 'The switch as it now stands.', content: json(killSwitchViewSchema) },
      '400': errorResponse(
        'The body is invalid, a workspace switch was given a target, or an action switch has no action kind (VALIDATION_FAILED).',
      ),
      '401': UNAUTHENTICATED,
      '404': AGENT_NOT_FOUND,
      '409': errorResponse(
        'The policy in force puts this change under dual control (SECOND_ADMIN_REQUIRED, details.requestId), or a kill trigger stopped this agent and its regression set does not pass (REGRESSION_FAILED, details.failures: one sentence each).',
      ),
    },
    handle: async ({ caller: workspace, body, context: { deps } }, res) => {
      res.json(await setKillSwitch(deps, workspace.id, body, ADMIN));
    },
  }),
  // Quarantine (issue 21): the records waiting for a person's review after their agent was stopped.
  defineRoute({
    method: 'get',
    path: '/v1/admin/reviews',
    operationId: 'listRecordReviews',
    summary:
      'Records a quarantine marked for review (an agent stopped by a kill switch or trigger wrote them lately), newest first.',
    security: 'admin',
    query: { schema: recordReviewQuerySchema, what: 'The reviews query' },
    responses: {
      '200': {
        description: 'The open reviews.',
        content: json(z.object({ reviews: z.array(recordReviewViewSchema) })),
      },
      '400': INVALID,
      '401': UNAUTHENTICATED,
    },
    handle: async ({ caller: workspace, query, context: { deps } }, res) => {
      res.json({
        reviews: await listRecordReviews(deps, workspace.id, {
          ...(query.objectType ? { objectType: query.objectType } : {}),
          ...(query.recordId ? { recordIds: [query.recordId] } : {}),
        }),
      });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/reviews/clear',
    operationId: 'clearRecordReview',
    summary:
      'A person reviewed the record: clear its review (audited) and empty its ag_needs_review property in the CRM.',
    security: 'admin',
    body: { schema: clearRecordReviewSchema, what: 'The record' },
    responses: {
      '200': { description: 'The review as it was cleared.', content: json(recordReviewViewSchema) },
      '400': INVALID,
      '401': UNAUTHENTICATED,
      '404': errorResponse('The record is not waiting for review (NOT_FOUND).'),
    },
    handle: async ({ caller: workspace, body, context: { deps } }, res) => {
      res.json(await clearRecordReview(deps, workspace.id, body, ADMIN));
    },
  }),
  // A drill (issue 6): runs a trigger's rule over synthetic counts and says what it would engage.
  defineRoute({
    method: 'post',
    path: '/v1/admin/kill-triggers/drill',
    operationId: 'drillKillTrigger',
    summary:
      'Run a kill trigger’s rule over synthetic counts under the policy in force and say what it would engage; engages nothing.',
    security: 'admin',
    body: { schema: killTriggerDrillSchema, what: 'The drill' },
    responses: {
      '200': { description: 'What would engage.', content: json(killTriggerDrillResultSchema) },
      '400': INVALID,
      '401': UNAUTHENTICATED,
      '409': NO_POLICY,
    },
    handle: async ({ caller: workspace, body, context: { deps } }, res) => {
      res.json(await drillKillTrigger(deps, workspace.id, body));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/bootstrap',
    operationId: 'bootstrapWorkspace',
    summary:
      'Create in HubSpot the properties and the Agent Approval object the app writes; running it again changes nothing.',
    security: 'admin',
    responses: {
      '200': { description: 'What was created and what existed.', content: json(bootstrapResultSchema) },
      '401': UNAUTHENTICATED,
      '502': errorResponse('HubSpot refused (CRM_REJECTED, CRM_AUTH_FAILED).'),
      '503': errorResponse(
        'HubSpot is rate limiting or unavailable (CRM_RATE_LIMITED, CRM_UNAVAILABLE); run it again later.',
      ),
    },
    handle: async ({ caller: workspace, context: { deps } }, res) => {
      res.json(await bootstrapWorkspace(deps, workspace.id, ADMIN));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/workspace/connections',
    operationId: 'connectCrm',
    summary:
      'Connect the workspace to its other CRM (a HubSpot portal or a Salesforce org), signed in once first: one policy then governs the objects of both.',
    security: 'admin',
    body: { schema: connectCrmSchema, what: 'The connection' },
    responses: {
      '201': { description: 'The connection (never its credentials).', content: json(crmConnectionViewSchema) },
      '400': errorResponse(
        'The body is invalid, names a CRM other than hubspot or salesforce, or the token opens another portal (VALIDATION_FAILED).',
      ),
      '401': UNAUTHENTICATED,
      '409': errorResponse(
        'The workspace already has that CRM (CONFLICT, details.reason already_connected), or the account belongs to another workspace (details.reason account_in_use).',
      ),
      '422': errorResponse(
        'The credentials or the login URL given did not sign in (CRM_SIGN_IN_FAILED, details.reason the CRM’s code; an instance URL the token endpoint answered off Salesforce’s domains and the allowed networks is details.oauthError instance_url_not_allowed), or the login URL is off Salesforce’s own domains and the networks OUTBOUND_ALLOWED_NETWORKS lists (DESTINATION_NOT_ALLOWED, details.path connection.loginUrl), refused before anything is sent. Nothing was stored.',
      ),
      '502': errorResponse('The CRM refused the credentials (CRM_AUTH_FAILED): nothing was stored.'),
      '503': errorResponse('The CRM is rate limiting or unavailable (CRM_RATE_LIMITED, CRM_UNAVAILABLE).'),
    },
    handle: async ({ caller: workspace, body, context: { deps } }, res) => {
      res.status(201).json(await connectCrm(deps, workspace.id, body, ADMIN));
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/admin/workspace/connections/{crm}',
    operationId: 'disconnectCrm',
    summary:
      'Disconnect the workspace from the CRM it connected second: the account is given back, its events no longer reach the workspace (audited as workspace.disconnected).',
    security: 'admin',
    params: { crm: { schema: crmParamSchema, what: 'The CRM' } },
    responses: {
      '200': { description: 'The connection removed (never its credentials).', content: json(crmConnectionViewSchema) },
      '400': errorResponse('The CRM is neither hubspot nor salesforce (VALIDATION_FAILED).'),
      '401': UNAUTHENTICATED,
      '404': errorResponse('The workspace is not connected to that CRM (NOT_FOUND, details.reason not_connected).'),
      '409': errorResponse(
        'CONFLICT, details.reason: only_connection (remove the workspace instead), first_connection (the CRM the workspace was added with stays), policy_governs (details.objectTypes: publish a policy without them first) or work_in_flight (counts of approvals, drafts, change sets, held entries and rollbacks on that CRM).',
      ),
    },
    handle: async ({ caller: workspace, params, context: { deps } }, res) => {
      res.json(
        await disconnectCrm(deps, workspace.id, crmParamSchema.parse(params.crm, { error: readableMessage }), ADMIN),
      );
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/audit/verify',
    operationId: 'verifyAudit',
    summary: 'Recompute the workspace’s audit hash chain and name the first event that does not hold.',
    security: 'admin',
    responses: {
      '200': {
        description: 'Whether the chain holds, and over how many events.',
        content: json(auditVerificationSchema),
      },
      '401': UNAUTHENTICATED,
    },
    handle: async ({ caller: workspace, context: { deps } }, res) => {
      res.json(await verifyAudit(deps, workspace.id));
    },
  }),
  // With the checkpoint file's lines (issue 17): also checks the chain against each signed checkpoint.
  defineRoute({
    method: 'post',
    path: '/v1/admin/audit/verify',
    operationId: 'verifyAuditWithCheckpoints',
    summary:
      'Verify the chain as GET does, and check it against signed checkpoints (the checkpoint file’s lines, each parsed): each signature under a trusted key, then that the chain still holds that event with that hash. Names the first checkpoint the database contradicts, a removed tail included.',
    security: 'admin',
    body: { schema: auditVerifyRequestSchema, what: 'The checkpoints' },
    responses: {
      '200': {
        description: 'Whether the chain and the checkpoints hold; `checkpoints` reports on the latter.',
        content: json(auditVerificationSchema),
      },
      '400': errorResponse(
        'The body is not checkpoint lines, or the server has no checkpoint key and no publicKeys were given (VALIDATION_FAILED, MALFORMED_JSON).',
      ),
      '401': UNAUTHENTICATED,
    },
    handle: async ({ caller: workspace, body, context: { deps, checkpointPublicKey } }, res) => {
      const trustedPublicKeys = [...(checkpointPublicKey ? [checkpointPublicKey] : []), ...(body.publicKeys ?? [])];
      if (trustedPublicKeys.length === 0)
        throw new AppError(
          'VALIDATION_FAILED',
          'This server has no checkpoint key: give publicKeys, the key(s) the checkpoints were signed with.',
        );
      res.json(await verifyAudit(deps, workspace.id, { checkpoints: body.checkpoints, trustedPublicKeys }));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/audit/export',
    operationId: 'exportAudit',
    summary: 'Stream the audit events, filtered, as NDJSON (one event a line) or CSV.',
    security: 'admin',
    query: { schema: auditExportQuerySchema, what: 'The export query' },
    responses: {
      '200': {
        description: 'The events, in seq order.',
        content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } },
      },
      '400': INVALID,
      '401': UNAUTHENTICATED,
    },
    handle: async ({ caller: workspace, query, context: { deps } }, res) => {
      res.type(query.format === 'csv' ? 'text/csv' : 'application/x-ndjson');
      const filter = {
        agentId: query.agent,
        batchId: query.batch,
        recordId: query.record,
        from: date(query.from),
        to: date(query.to),
      };
      await streamTo(res, exportAudit(deps, workspace.id, filter, query.format));
    },
  }),
];

function date(value: string | undefined): Date | undefined {
  return value === undefined ? undefined : new Date(value);
}
