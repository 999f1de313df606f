import { z } from 'zod';
import {
  activePolicySchema,
  agentStatusChangeSchema,
  agentViewSchema,
  auditExportQuerySchema,
  auditVerificationSchema,
  auditVerifyRequestSchema,
  bootstrapResultSchema,
  createAgentSchema,
  createdAgentSchema,
  createDelegationSchema,
  delegationViewSchema,
  killSwitchChangeSchema,
  killSwitchViewSchema,
  killTriggerDrillResultSchema,
  killTriggerDrillSchema,
  policyVersionSchema,
} from '../../../shared/admin-api.ts';
import { errorResponseSchema } from '../../../shared/agent-api.ts';
import { consoleLinkRequestSchema, consoleLinkSchema } from '../../../shared/console-api.ts';
import { policySchema } from '../../../shared/policy.ts';

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json(errorResponseSchema) });
const INVALID = error('The body or query is invalid (VALIDATION_FAILED, MALFORMED_JSON).');
const UNAUTHENTICATED = error('Missing or unknown admin token (UNAUTHENTICATED).');
const AGENT_NOT_FOUND = error('No such agent in this workspace (NOT_FOUND).');
const NO_POLICY = error('No policy published yet (NO_ACTIVE_POLICY).');
const SECOND_ADMIN = error(
  'The policy in force puts this change under dual control (SECOND_ADMIN_REQUIRED): it waits as a governance request, details.requestId, for a second admin to confirm.',
);
const admin = [{ adminToken: [] }];
const idParam = { path: z.object({ id: z.uuid() }) };
const version = z.object({ version: z.number().int().positive() });

const AGENT_STATUS_SUMMARIES: Record<z.infer<typeof agentStatusChangeSchema>, string> = {
  pause: 'Stop the agent acting until resumed; its submissions answer 403 AGENT_NOT_ACTIVE.',
  resume: 'Let a paused agent act again.',
  revoke: 'End the agent for good: a leaked token never works again.',
};

/** One path per action the route accepts, so each has its own operation. */
const agentStatusPaths = Object.fromEntries(
  agentStatusChangeSchema.options.map((action) => [
    `/v1/admin/agents/{id}/${action}`,
    {
      post: {
        operationId: `${action}Agent`,
        summary: AGENT_STATUS_SUMMARIES[action],
        security: admin,
        requestParams: idParam,
        responses: {
          '200': { description: 'The agent as it now stands.', content: json(agentViewSchema) },
          '401': UNAUTHENTICATED,
          '404': AGENT_NOT_FOUND,
          '409': error('The agent is revoked and cannot be paused or resumed (CONFLICT).'),
        },
      },
    },
  ]),
);

/** Policies, agents, kill switches and setup (the settings page and scripts), merged into the OpenAPI document; these take the workspace's admin token. */
export const adminOpenApiPaths = {
  '/v1/admin/policies': {
    post: {
      operationId: 'publishPolicy',
      summary: 'Publish the next immutable policy version; it is in force for the next submission.',
      security: admin,
      requestBody: { required: true, content: json(policySchema) },
      responses: {
        '201': { description: 'Published.', content: json(version) },
        '400': error(
          'The policy is not valid (POLICY_INVALID, details.issues), or the body is not JSON (MALFORMED_JSON).',
        ),
        '401': UNAUTHENTICATED,
        '409': SECOND_ADMIN,
      },
    },
    get: {
      operationId: 'listPolicyVersions',
      summary: 'Every published version, newest first.',
      security: admin,
      responses: {
        '200': { description: 'The versions.', content: json(z.object({ versions: z.array(policyVersionSchema) })) },
        '401': UNAUTHENTICATED,
      },
    },
  },
  '/v1/admin/policies/active': {
    get: {
      operationId: 'getActivePolicy',
      summary: 'The policy in force: the newest version.',
      security: admin,
      responses: {
        '200': { description: 'The version and its document.', content: json(activePolicySchema) },
        '401': UNAUTHENTICATED,
        '409': NO_POLICY,
      },
    },
  },
  '/v1/admin/agents': {
    post: {
      operationId: 'createAgent',
      summary: 'Create an agent with a role; its bearer token is answered once.',
      security: admin,
      requestBody: { required: true, content: json(createAgentSchema) },
      responses: {
        '201': { description: 'The agent and its token.', content: json(createdAgentSchema) },
        '400': INVALID,
        '401': UNAUTHENTICATED,
        '409': error('An agent of that name exists in this workspace (CONFLICT).'),
      },
    },
    get: {
      operationId: 'listAgents',
      summary: 'The workspace’s agents, with their status.',
      security: admin,
      responses: {
        '200': { description: 'The agents.', content: json(z.object({ agents: z.array(agentViewSchema) })) },
        '401': UNAUTHENTICATED,
      },
    },
  },
  ...agentStatusPaths,
  '/v1/admin/agents/{id}/delegations': {
    post: {
      operationId: 'createDelegation',
      summary: 'Let the agent act for a CRM user (onBehalfOf) until expiresAt; the audit names both.',
      security: admin,
      requestParams: idParam,
      requestBody: { required: true, content: json(createDelegationSchema) },
      responses: {
        '201': { description: 'The delegation.', content: json(delegationViewSchema) },
        '400': error('The body is invalid, or expiresAt is not in the future (VALIDATION_FAILED).'),
        '401': UNAUTHENTICATED,
        '404': AGENT_NOT_FOUND,
      },
    },
  },
  '/v1/admin/kill-switches': {
    get: {
      operationId: 'listKillSwitches',
      summary: 'Every kill switch ever set in the workspace, engaged or released.',
      security: admin,
      responses: {
        '200': {
          description: 'The switches.',
          content: json(z.object({ killSwitches: z.array(killSwitchViewSchema) })),
        },
        '401': UNAUTHENTICATED,
      },
    },
    put: {
      operationId: 'setKillSwitch',
      summary:
        'Engage or release the workspace’s, an agent’s or an action kind’s switch; it holds from the next submission and CRM call.',
      security: admin,
      requestBody: { required: true, content: json(killSwitchChangeSchema) },
      responses: {
        '200': { description: 'The switch as it now stands.', content: json(killSwitchViewSchema) },
        '400': error(
          'The body is invalid, a workspace switch was given a target, or an action switch has no action kind (VALIDATION_FAILED).',
        ),
        '401': UNAUTHENTICATED,
        '404': AGENT_NOT_FOUND,
        '409': SECOND_ADMIN,
      },
    },
  },
  '/v1/admin/kill-triggers/drill': {
    post: {
      operationId: 'drillKillTrigger',
      summary:
        'Run a kill trigger’s rule over synthetic counts under the policy in force and say what it would engage; engages nothing.',
      security: admin,
      requestBody: { required: true, content: json(killTriggerDrillSchema) },
      responses: {
        '200': { description: 'What would engage.', content: json(killTriggerDrillResultSchema) },
        '400': INVALID,
        '401': UNAUTHENTICATED,
        '409': NO_POLICY,
      },
    },
  },
  '/v1/admin/bootstrap': {
    post: {
      operationId: 'bootstrapWorkspace',
      summary:
        'Create in HubSpot the properties and the Agent Approval object the app writes; running it again changes nothing.',
      security: admin,
      responses: {
        '200': { description: 'What was created and what existed.', content: json(bootstrapResultSchema) },
        '401': UNAUTHENTICATED,
        '502': error('HubSpot refused (CRM_REJECTED, CRM_AUTH_FAILED).'),
        '503': error(
          'HubSpot is rate limiting or unavailable (CRM_RATE_LIMITED, CRM_UNAVAILABLE); run it again later.',
        ),
      },
    },
  },
  '/v1/admin/console-links': {
    post: {
      operationId: 'createConsoleLink',
      summary: 'A one-time sign-in link to the web console for a person of the workspace (15 minutes).',
      security: admin,
      requestBody: { required: false, content: json(consoleLinkRequestSchema) },
      responses: {
        '201': { description: 'The link, shown once.', content: json(consoleLinkSchema) },
        '400': error('The person has no role in this workspace, or nobody has one yet (VALIDATION_FAILED).'),
        '401': UNAUTHENTICATED,
      },
    },
  },
  '/v1/admin/audit/verify': {
    get: {
      operationId: 'verifyAudit',
      summary: 'Recompute the workspace’s audit hash chain and name the first event that does not hold.',
      security: admin,
      responses: {
        '200': {
          description: 'Whether the chain holds, and over how many events.',
          content: json(auditVerificationSchema),
        },
        '401': UNAUTHENTICATED,
      },
    },
    post: {
      operationId: 'verifyAuditWithCheckpoints',
      summary:
        'Verify the chain as GET does, and check it against signed checkpoints (the checkpoint file’s lines, each parsed): each signature under a trusted key, then that the chain still holds that event with that hash. Names the first checkpoint the database contradicts, a removed tail included.',
      security: admin,
      requestBody: { required: true, content: json(auditVerifyRequestSchema) },
      responses: {
        '200': {
          description: 'Whether the chain and the checkpoints hold; `checkpoints` reports on the latter.',
          content: json(auditVerificationSchema),
        },
        '400': error(
          'The body is not checkpoint lines, or the server has no checkpoint key and no publicKeys were given (VALIDATION_FAILED, MALFORMED_JSON).',
        ),
        '401': UNAUTHENTICATED,
      },
    },
  },
  '/v1/admin/audit/export': {
    get: {
      operationId: 'exportAudit',
      summary: 'Stream the audit events, filtered, as NDJSON (one event a line) or CSV.',
      security: admin,
      requestParams: { query: auditExportQuerySchema },
      responses: {
        '200': {
          description: 'The events, in seq order.',
          content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } },
        },
        '400': INVALID,
        '401': UNAUTHENTICATED,
      },
    },
  },
};
