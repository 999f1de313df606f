import { z } from 'zod';
import {
  approvalDecisionSchema,
  approvalListingSchema,
  approvalListQuerySchema,
  approvalViewSchema,
  batchApprovalDecisionSchema,
  batchDecisionResultSchema,
  crmUserIdParamSchema,
  personViewSchema,
  setPersonSchema,
} from '../../../shared/approval-api.ts';
import { associateResultSchema, createResultSchema, creationDecisionSchema } from '../../../shared/agent-api.ts';
import { decideAssociation, decideBatch, decideCreation } from '../services/change-sets/index.ts';
import type { Actor } from '../services/common/index.ts';
import { listWorkspacePeople, setPersonRole } from '../services/governance/index.ts';
import { decideApproval, findApprovals, getApproval } from '../services/held/index.ts';
import { defineRoute, errorResponses, json } from './route.ts';

const ADMIN: Actor = { type: 'admin', via: 'api', name: 'workspace-admin-token' };

/** Shared with the admin's routes for held drafts, which are decided by the same rules. */
export const approvalErrors = errorResponses({
  400: 'The body or query is invalid (VALIDATION_FAILED, MALFORMED_JSON), or an edited value does not fit the property (INVALID_PROPERTY_VALUE).',
  401: 'Missing or unknown admin token (UNAUTHENTICATED).',
  403: 'The person may not decide this approval (APPROVAL_DECISION_FORBIDDEN); details.refusal says why.',
  404: 'No such approval in this workspace (NOT_FOUND); another workspace’s answers the same.',
  409: 'The approval can no longer be decided: already decided, expired or stale (APPROVAL_NOT_DECIDABLE); details.refusal says which.',
});
const approval = { id: { rowOf: 'approval' } };

/**
 * Approvals (issue 5), for the record card and the console: held field changes, and held drafts
 * (emails, tasks, notes), and held record creations and associations (issue 21), each decided
 * alone on its own route or in a batch with the others;
 * and the people who decide them. The admin token vouches for the caller until issue 8
 * has HubSpot sign requests from the record card; the person deciding is named by `actingUserId`
 * and their role comes from `people`.
 */
export const approvalRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/admin/approvals',
    operationId: 'listApprovals',
    summary:
      'Approvals of a record, an agent or a batch, newest first: held field changes, held drafts, and held record creations and associations, told apart by kind.',
    security: 'admin',
    query: { schema: approvalListQuerySchema, what: 'The approvals query' },
    responses: {
      '200': {
        description: 'The approvals.',
        content: json(z.object({ approvals: z.array(approvalListingSchema) })),
      },
      ...approvalErrors(400, 401),
    },
    handle: async ({ caller: workspace, query, context: { deps } }, res) => {
      res.json({
        approvals: await findApprovals(deps, workspace.id, {
          recordId: query.record,
          batchId: query.batch,
          agentId: query.agent,
          status: query.status,
          kind: query.kind,
          limit: query.limit,
        }),
      });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/approvals/{id}',
    operationId: 'getApproval',
    summary:
      'One approval of any kind, with its items (each property: before, proposed, edit, status), its draft, or the record it would create or the link it would make.',
    security: 'admin',
    params: approval,
    responses: {
      '200': { description: 'The approval.', content: json(approvalListingSchema) },
      ...approvalErrors(401, 404),
    },
    handle: async ({ caller: workspace, params, context: { deps } }, res) => {
      res.json(await getApproval(deps, workspace.id, params.id));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/approvals/{id}/decisions',
    operationId: 'decideApproval',
    summary:
      'Approve (optionally editing values first) or reject held field changes, all or some properties; approved values are written to the CRM.',
    security: 'admin',
    params: approval,
    body: { schema: approvalDecisionSchema, what: 'The decision' },
    responses: {
      '200': { description: 'The approval as it now stands.', content: json(approvalViewSchema) },
      ...approvalErrors(400, 401, 403, 404, 409),
    },
    handle: async ({ caller: workspace, params, body, context: { deps } }, res) => {
      res.json(await decideApproval(deps, { workspace, approvalId: params.id, request: body }));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/creations/{id}/decisions',
    operationId: 'decideCreation',
    summary:
      'Approve or reject a held record creation (issue 21; its changeId in the change set); once approved, by two people for two_person, the record is created.',
    security: 'admin',
    params: { id: { rowOf: 'creation' } },
    body: { schema: creationDecisionSchema, what: 'The decision' },
    responses: {
      '200': { description: 'The creation as it now stands.', content: json(createResultSchema) },
      ...approvalErrors(400, 401, 403, 404, 409),
    },
    handle: async ({ caller: workspace, params, body, context: { deps } }, res) => {
      res.json(await decideCreation(deps, { workspace, creationId: params.id, request: body }));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/associations/{id}/decisions',
    operationId: 'decideAssociation',
    summary:
      'Approve or reject a held association (issue 21; its changeId in the change set); once approved, by two people for two_person, the records are linked.',
    security: 'admin',
    params: { id: { rowOf: 'association' } },
    body: { schema: creationDecisionSchema, what: 'The decision' },
    responses: {
      '200': { description: 'The association as it now stands.', content: json(associateResultSchema) },
      ...approvalErrors(400, 401, 403, 404, 409),
    },
    handle: async ({ caller: workspace, params, body, context: { deps } }, res) => {
      res.json(await decideAssociation(deps, { workspace, associationId: params.id, request: body }));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/approvals/decisions',
    operationId: 'decideApprovals',
    summary:
      'Approve or reject many approvals at once, held field changes, drafts, creations and associations in any mix (1,000 in all); each is decided by the same rules as alone, and one audit event keeps the manifest.',
    security: 'admin',
    body: { schema: batchApprovalDecisionSchema, what: 'The batch decision' },
    responses: {
      '200': {
        description: 'Each approval’s outcome and kind, with a refusal where one was refused.',
        content: json(batchDecisionResultSchema),
      },
      ...approvalErrors(400, 401, 404),
    },
    handle: async ({ caller: workspace, body, context: { deps } }, res) => {
      res.json(await decideBatch(deps, { workspace, request: body, via: 'admin_api' }));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/people',
    operationId: 'listPeople',
    summary:
      'The people given a role of their own for deciding approvals (roles given to HubSpot teams are set in the app).',
    security: 'admin',
    responses: {
      '200': { description: 'The people.', content: json(z.object({ people: z.array(personViewSchema) })) },
      ...approvalErrors(401),
    },
    handle: async ({ caller: workspace, context: { deps } }, res) => {
      res.json({ people: await listWorkspacePeople(deps, workspace.id) });
    },
  }),
  defineRoute({
    method: 'put',
    path: '/v1/admin/people/{crmUserId}',
    operationId: 'setPerson',
    summary:
      'Give a CRM user a role (or change it), audited as person.role_set; a rep’s owner id (HubSpot’s owner id, on Salesforce their user id) is looked up when not given.',
    security: 'admin',
    params: { crmUserId: { schema: crmUserIdParamSchema, what: 'The CRM user id' } },
    body: { schema: setPersonSchema, what: 'The person' },
    responses: {
      '200': { description: 'The person as now stored.', content: json(personViewSchema) },
      ...approvalErrors(400, 401),
    },
    handle: async (
      { caller: workspace, params: { crmUserId }, body: { role, crmOwnerId }, context: { deps } },
      res,
    ) => {
      res.json(await setPersonRole(deps, workspace.id, { crmUserId, role, crmOwnerId }, ADMIN));
    },
  }),
];
