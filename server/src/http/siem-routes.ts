import { z } from 'zod';
import { createSiemDestinationSchema, siemDestinationViewSchema } from '../../../shared/siem-api.ts';
import type { Actor } from '../services/common/index.ts';
import { addSiemDestination, listWorkspaceSiemDestinations, removeSiemDestination } from '../services/siem/index.ts';
import { defineRoute, errorResponses, json } from './route.ts';

const ADMIN: Actor = { type: 'admin', via: 'api', name: 'workspace-admin-token' };

const errors = errorResponses({
  400: 'The destination is invalid (VALIDATION_FAILED, MALFORMED_JSON).',
  401: 'Missing or unknown admin token (UNAUTHENTICATED).',
  404: 'No such destination in this workspace (NOT_FOUND).',
  409: 'A destination of that name exists in this workspace (CONFLICT).',
  422: 'The URL names an address this server does not send to, loopback, private or link-local, unless OUTBOUND_ALLOWED_NETWORKS allows it (DESTINATION_NOT_ALLOWED).',
});

/** Audit streaming (issue 22): the workspace's SIEM destinations and their delivery status; secrets go in, never out. */
export const siemRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/admin/siem-destinations',
    operationId: 'addSiemDestination',
    summary:
      'Stream the audit chain to an OTLP/HTTP collector, a Splunk HTTP Event Collector or a signed webhook, in chain order, at least once.',
    security: 'admin',
    body: { schema: createSiemDestinationSchema, what: 'The SIEM destination' },
    responses: {
      '201': {
        description: 'The destination; its secret is never returned.',
        content: json(siemDestinationViewSchema),
      },
      ...errors(400, 401, 409, 422),
    },
    handle: async ({ caller: workspace, body, context: { deps } }, res) => {
      res.status(201).json(await addSiemDestination(deps, workspace.id, body, ADMIN));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/siem-destinations',
    operationId: 'listSiemDestinations',
    summary: 'Each destination with its cursor, the chain head and whether it is current, behind, failing or down.',
    security: 'admin',
    responses: {
      '200': {
        description: 'The destinations.',
        content: json(z.object({ destinations: z.array(siemDestinationViewSchema) })),
      },
      ...errors(401),
    },
    handle: async ({ caller: workspace, context: { deps } }, res) => {
      res.json({ destinations: await listWorkspaceSiemDestinations(deps, workspace.id) });
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/admin/siem-destinations/{id}',
    operationId: 'removeSiemDestination',
    summary: 'Stop streaming to this destination; the removal is an audit event.',
    security: 'admin',
    params: { id: { rowOf: 'SIEM destination' } },
    responses: { '204': { description: 'Removed.' }, ...errors(401, 404) },
    handle: async ({ caller: workspace, params, context: { deps } }, res) => {
      await removeSiemDestination(deps, workspace.id, params.id, ADMIN);
      res.status(204).end();
    },
  }),
];
