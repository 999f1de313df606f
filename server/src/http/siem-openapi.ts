import { z } from 'zod';
import { errorResponseSchema } from '../../../shared/agent-api.ts';
import { createSiemDestinationSchema, siemDestinationViewSchema } from '../../../shared/siem-api.ts';

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json(errorResponseSchema) });
const UNAUTHENTICATED = error('Missing or unknown admin token (UNAUTHENTICATED).');
const admin = [{ adminToken: [] }];

/** Audit streaming to SIEMs (issue 22), merged into the OpenAPI document; these take the workspace's admin token. */
export const siemOpenApiPaths = {
  '/v1/admin/siem-destinations': {
    post: {
      operationId: 'addSiemDestination',
      summary:
        'Stream the audit chain to an OTLP/HTTP collector, a Splunk HTTP Event Collector or a signed webhook, in chain order, at least once.',
      security: admin,
      requestBody: { required: true, content: json(createSiemDestinationSchema) },
      responses: {
        '201': {
          description: 'The destination; its secret is never returned.',
          content: json(siemDestinationViewSchema),
        },
        '400': error('The destination is invalid (VALIDATION_FAILED, MALFORMED_JSON).'),
        '401': UNAUTHENTICATED,
        '409': error('A destination of that name exists (CONFLICT).'),
      },
    },
    get: {
      operationId: 'listSiemDestinations',
      summary: 'Each destination with its cursor, the chain head and whether it is current, behind, failing or down.',
      security: admin,
      responses: {
        '200': {
          description: 'The destinations.',
          content: json(z.object({ destinations: z.array(siemDestinationViewSchema) })),
        },
        '401': UNAUTHENTICATED,
      },
    },
  },
  '/v1/admin/siem-destinations/{id}': {
    delete: {
      operationId: 'removeSiemDestination',
      summary: 'Stop streaming to this destination; the removal is an audit event.',
      security: admin,
      requestParams: { path: z.object({ id: z.uuid() }) },
      responses: {
        '204': { description: 'Removed.' },
        '401': UNAUTHENTICATED,
        '404': error('No such destination in this workspace (NOT_FOUND).'),
      },
    },
  },
};
