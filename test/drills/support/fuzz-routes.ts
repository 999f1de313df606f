import { z } from 'zod';
import { createAgentSchema, killSwitchChangeSchema } from '../../../shared/admin-api.ts';
import { setPersonSchema } from '../../../shared/approval-api.ts';
import {
  auditSearchQuerySchema,
  cardQuerySchema,
  extensionDecisionSchema,
  proxyOnlyQuerySchema,
  setTeamRoleSchema,
} from '../../../shared/extension-api.ts';
import {
  bulkDecisionSchema,
  bulkSelectionSchema,
  extensionDraftDecisionSchema,
} from '../../../shared/extension-decisions-api.ts';
import { hubspotWebhookEventSchema } from '../../../shared/hubspot-webhooks.ts';
import { policySchema } from '../../../shared/policy.ts';
import { createRollbackSchema } from '../../../shared/rollback-api.ts';
import type { Definitions, JsonSchema } from './schema-arbitrary.ts';

export type Caller = 'agent' | 'admin' | 'hubspot_app' | 'hubspot_webhook';

/** One route to fuzz: what it takes, from the OpenAPI document or (for HubSpot's routes) from the shared zod schemas. */
export interface FuzzRoute {
  method: string;
  /** With `{name}` path parameters. */
  path: string;
  caller: Caller;
  pathParams: Record<string, JsonSchema>;
  /** Present when the route reads a JSON body. */
  body?: JsonSchema;
  /** Present when the route validates its query string (strictly: an unknown parameter is refused). */
  query?: JsonSchema;
}

interface OpenApiOperation {
  security?: Record<string, unknown>[];
  parameters?: { in: string; name: string; schema: JsonSchema }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}

/** Every operation of `/v1/openapi.json`, with the document's component schemas to resolve `$ref`s in. */
export function routesFromOpenApi(document: {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Definitions };
}): { routes: FuzzRoute[]; definitions: Definitions } {
  const routes: FuzzRoute[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const parameters = operation.parameters ?? [];
      const queryParams = parameters.filter((parameter) => parameter.in === 'query');
      routes.push({
        method: method.toUpperCase(),
        path,
        caller: operation.security?.some((scheme) => 'adminToken' in scheme) ? 'admin' : 'agent',
        pathParams: Object.fromEntries(
          parameters
            .filter((parameter) => parameter.in === 'path')
            .map((parameter) => [parameter.name, parameter.schema]),
        ),
        ...(operation.requestBody ? { body: operation.requestBody.content['application/json']!.schema } : {}),
        ...(queryParams.length > 0
          ? {
              query: {
                type: 'object',
                additionalProperties: false,
                properties: Object.fromEntries(queryParams.map((parameter) => [parameter.name, parameter.schema])),
              },
            }
          : {}),
      });
    }
  }
  return { routes, definitions: document.components?.schemas ?? {} };
}

const jsonSchema = (schema: z.ZodType): JsonSchema =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
const uuid: JsonSchema = { type: 'string', format: 'uuid' };
const digits: JsonSchema = { type: 'string', pattern: '^[0-9]{1,18}$' };
// HubSpot's own query parameters are added to every app request by the client, as HubSpot does.
const proxyQuery = jsonSchema(proxyOnlyQuerySchema);

const app = (
  method: string,
  path: string,
  parts: Partial<Pick<FuzzRoute, 'pathParams' | 'body' | 'query'>> = {},
): FuzzRoute => ({
  method,
  path: `/v1/extension${path}`,
  caller: 'hubspot_app',
  pathParams: parts.pathParams ?? {},
  query: parts.query ?? proxyQuery,
  ...(parts.body ? { body: parts.body } : {}),
});

/** The HubSpot app's backend (issue 8) and the webhook intake: signed by HubSpot, so not in the OpenAPI document. */
export function hubspotRoutes(): FuzzRoute[] {
  return [
    app('GET', '/card', { query: jsonSchema(cardQuerySchema) }),
    app('POST', '/approvals/{id}/decisions', { pathParams: { id: uuid }, body: jsonSchema(extensionDecisionSchema) }),
    app('GET', '/settings'),
    app('POST', '/policies', { body: jsonSchema(z.strictObject({ document: policySchema })) }),
    app('PUT', '/kill-switches', { body: jsonSchema(killSwitchChangeSchema) }),
    app('GET', '/home'),
    app('GET', '/audit', { query: jsonSchema(auditSearchQuerySchema) }),
    app('POST', '/rollbacks', { body: jsonSchema(createRollbackSchema) }),
    app('GET', '/rollbacks/{id}', { pathParams: { id: uuid } }),
    app('GET', '/teams'),
    app('PUT', '/people/{crmUserId}', { pathParams: { crmUserId: digits }, body: jsonSchema(setPersonSchema) }),
    app('DELETE', '/people/{crmUserId}', { pathParams: { crmUserId: digits } }),
    app('PUT', '/team-roles/{teamId}', { pathParams: { teamId: digits }, body: jsonSchema(setTeamRoleSchema) }),
    app('DELETE', '/team-roles/{teamId}', { pathParams: { teamId: digits } }),
    app('POST', '/agents', { body: jsonSchema(createAgentSchema) }),
    app('POST', '/agents/{id}/{action}', { pathParams: { id: uuid, action: { enum: ['pause', 'resume', 'revoke'] } } }),
    app('POST', '/policies/{version}/restore', {
      pathParams: { version: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' } },
    }),
    app('POST', '/governance-requests/{id}/{decision}', {
      pathParams: { id: uuid, decision: { enum: ['confirm', 'cancel'] } },
    }),
    app('POST', '/drafts/{id}/decisions', { pathParams: { id: uuid }, body: jsonSchema(extensionDraftDecisionSchema) }),
    app('POST', '/bulk/preview', { body: jsonSchema(bulkSelectionSchema) }),
    app('POST', '/bulk/decisions', { body: jsonSchema(bulkDecisionSchema) }),
    {
      method: 'POST',
      path: '/webhooks/hubspot',
      caller: 'hubspot_webhook',
      pathParams: {},
      body: { type: 'array', minItems: 1, maxItems: 5, items: jsonSchema(hubspotWebhookEventSchema) },
    },
  ];
}
