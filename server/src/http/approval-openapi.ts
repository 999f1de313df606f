import { z } from 'zod';
import { actionDecisionSchema, actionListQuerySchema, actionViewSchema } from '../../../shared/action-api.ts';
import { errorResponseSchema } from '../../../shared/agent-api.ts';
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

const DESCRIPTIONS: Record<number, string> = {
  400: 'The body or query is invalid (VALIDATION_FAILED, MALFORMED_JSON), or an edited value does not fit the property (INVALID_PROPERTY_VALUE).',
  401: 'Missing or unknown admin token (UNAUTHENTICATED).',
  403: 'The person may not decide this approval (APPROVAL_DECISION_FORBIDDEN); details.refusal says why.',
  404: 'No such approval in this workspace (NOT_FOUND); another workspace’s answers the same.',
  409: 'The approval can no longer be decided: already decided, expired or stale (APPROVAL_NOT_DECIDABLE); details.refusal says which.',
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
const idParam = { path: z.object({ id: z.uuid() }) };
const admin = [{ adminToken: [] }];

/**
 * Approvals (issue 5), for the record card and the console, merged into the OpenAPI document:
 * held field changes, and held drafts (emails, tasks, notes), which are decided alone on their
 * own route or in a batch with field changes; and the people who decide them. These take the
 * workspace's admin token.
 */
export const approvalOpenApiPaths = {
  '/v1/admin/approvals': {
    get: {
      operationId: 'listApprovals',
      summary:
        'Approvals of a record, an agent or a batch, newest first: held field changes and held drafts, told apart by kind.',
      security: admin,
      requestParams: { query: approvalListQuerySchema },
      responses: {
        '200': {
          description: 'The approvals.',
          content: json(z.object({ approvals: z.array(approvalListingSchema) })),
        },
        ...errors(400, 401),
      },
    },
  },
  '/v1/admin/approvals/{id}': {
    get: {
      operationId: 'getApproval',
      summary:
        'One approval of either kind, with its items (each property: before, proposed, edit, status) or its draft.',
      security: admin,
      requestParams: idParam,
      responses: { '200': { description: 'The approval.', content: json(approvalListingSchema) }, ...errors(401, 404) },
    },
  },
  '/v1/admin/approvals/{id}/decisions': {
    post: {
      operationId: 'decideApproval',
      summary:
        'Approve (optionally editing values first) or reject held field changes, all or some properties; approved values are written to the CRM.',
      security: admin,
      requestParams: idParam,
      requestBody: { required: true, content: json(approvalDecisionSchema) },
      responses: {
        '200': { description: 'The approval as it now stands.', content: json(approvalViewSchema) },
        ...errors(400, 401, 403, 404, 409),
      },
    },
  },
  '/v1/admin/approvals/decisions': {
    post: {
      operationId: 'decideApprovals',
      summary:
        'Approve or reject many approvals at once, held field changes and held drafts in any mix (1,000 in all); each is decided by the same rules as alone, and one audit event keeps the manifest.',
      security: admin,
      requestBody: { required: true, content: json(batchApprovalDecisionSchema) },
      responses: {
        '200': {
          description: 'Each approval’s outcome and kind, with a refusal where one was refused.',
          content: json(batchDecisionResultSchema),
        },
        ...errors(400, 401, 404),
      },
    },
  },
  '/v1/admin/people': {
    get: {
      operationId: 'listPeople',
      summary:
        'The people given a role of their own for deciding approvals (roles given to HubSpot teams are set in the app).',
      security: admin,
      responses: {
        '200': { description: 'The people.', content: json(z.object({ people: z.array(personViewSchema) })) },
        ...errors(401),
      },
    },
  },
  '/v1/admin/people/{crmUserId}': {
    put: {
      operationId: 'setPerson',
      summary:
        'Give a CRM user a role (or change it), audited as person.role_set; a rep’s HubSpot owner id is looked up when not given.',
      security: admin,
      requestParams: { path: z.object({ crmUserId: crmUserIdParamSchema }) },
      requestBody: { required: true, content: json(setPersonSchema) },
      responses: {
        '200': { description: 'The person as now stored.', content: json(personViewSchema) },
        ...errors(400, 401),
      },
    },
  },
  '/v1/admin/actions': {
    get: {
      operationId: 'listActions',
      summary: 'Drafts (emails, tasks, notes) agents proposed, whatever the policy decided, newest first.',
      security: admin,
      requestParams: { query: actionListQuerySchema },
      responses: {
        '200': { description: 'The drafts.', content: json(z.object({ actions: z.array(actionViewSchema) })) },
        ...errors(400, 401),
      },
    },
  },
  '/v1/admin/actions/{id}': {
    get: {
      operationId: 'getActionForAdmin',
      summary: 'One draft, with its content, edits, approvers and outcomes.',
      security: admin,
      requestParams: idParam,
      responses: { '200': { description: 'The draft.', content: json(actionViewSchema) }, ...errors(401, 404) },
    },
  },
  '/v1/admin/actions/{id}/decisions': {
    post: {
      operationId: 'decideAction',
      summary:
        'Approve (optionally editing the subject or body) or reject a held draft; an approved email is checked against the stop rules again, a task or note is created.',
      security: admin,
      requestParams: idParam,
      requestBody: { required: true, content: json(actionDecisionSchema) },
      responses: {
        '200': { description: 'The draft as it now stands.', content: json(actionViewSchema) },
        ...errors(400, 401, 403, 404, 409),
      },
    },
  },
};
