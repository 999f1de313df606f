import {
  erasureRequestSchema,
  erasureResultSchema,
  retentionPeriodsSchema,
  retentionViewSchema,
} from '../../../shared/retention-api.ts';
import { governanceRequestViewSchema } from '../../../shared/admin-api.ts';
import type { Actor } from '../services/common/index.ts';
import { requestErasure } from '../services/governance/index.ts';
import { setRetention, showRetention } from '../services/retention/index.ts';
import { defineRoute, errorResponses, json } from './route.ts';

const ADMIN: Actor = { type: 'admin', via: 'api', name: 'workspace-admin-token' };

const errors = errorResponses({
  400: 'The request is invalid (VALIDATION_FAILED, MALFORMED_JSON).',
  401: 'Missing or unknown admin token (UNAUTHENTICATED).',
});

/** Retention and erasure (issue 21, point 11; docs/retention.md). */
export const retentionRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/admin/retention',
    operationId: 'getRetention',
    summary:
      'How long this workspace keeps change records, drafts, webhook payloads and personal values in the audit log, and its retention job.',
    security: 'admin',
    responses: {
      '200': { description: 'The periods (null: kept for ever).', content: json(retentionViewSchema) },
      ...errors(401),
    },
    handle: async ({ caller: workspace, context: { deps } }, res) => {
      res.json(await showRetention(deps, workspace.id));
    },
  }),
  defineRoute({
    method: 'put',
    path: '/v1/admin/retention',
    operationId: 'setRetention',
    summary:
      'Set the retention periods in days (null keeps for ever); audited, applied by the retention job from its next round.',
    security: 'admin',
    body: { schema: retentionPeriodsSchema, what: 'The retention periods' },
    responses: {
      '200': { description: 'The periods now in force.', content: json(retentionViewSchema) },
      ...errors(400, 401),
    },
    handle: async ({ caller: workspace, body, context: { deps } }, res) => {
      res.json(await setRetention(deps, workspace.id, body, ADMIN));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/erasures',
    operationId: 'erasePerson',
    summary:
      'Erase one person (a CRM record, an email address, or both): their personal values in the audit log, settled drafts, change records and field history. The audit chain still verifies. Under dual control it waits for a second admin.',
    security: 'admin',
    body: { schema: erasureRequestSchema, what: 'The erasure request' },
    responses: {
      '200': { description: 'How much was erased.', content: json(erasureResultSchema) },
      '202': {
        description:
          'The policy puts erasure under dual control: nothing is erased yet; the governance request waits for a second admin (POST /v1/admin/governance-requests/{id}/confirm).',
        content: json(governanceRequestViewSchema),
      },
      ...errors(400, 401),
    },
    handle: async ({ caller: workspace, body, context: { deps } }, res) => {
      const outcome = await requestErasure(deps, workspace.id, body, ADMIN);
      if ('pending' in outcome) res.status(202).json(outcome.pending);
      else res.json(outcome.erased);
    },
  }),
];
