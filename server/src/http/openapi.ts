import { createDocument } from 'zod-openapi';
import { actionRoutes } from './action-routes.ts';
import { adminRoutes } from './admin-routes.ts';
import { agentSafetyRoutes } from './agent-safety-routes.ts';
import { alertRoutes } from './alert-routes.ts';
import { agentRoutes } from './agent-routes.ts';
import { approvalRoutes } from './approval-routes.ts';
import { consoleLinkRoutes } from './console-routes.ts';
import { governanceRoutes } from './governance-routes.ts';
import { qaRoutes } from './qa-routes.ts';
import { openApiPaths } from './route.ts';
import { retentionRoutes } from './retention-routes.ts';
import { rollbackRoutes } from './rollback-routes.ts';
import { siemRoutes } from './siem-routes.ts';

/** Every route of the REST API (the HubSpot app's and the webhook intake are HubSpot's, and not documented here). */
export const apiRoutes = [
  ...agentRoutes,
  ...adminRoutes,
  ...agentSafetyRoutes,
  ...actionRoutes,
  ...approvalRoutes,
  ...qaRoutes,
  ...governanceRoutes,
  ...rollbackRoutes,
  ...consoleLinkRoutes,
  ...siemRoutes,
  ...alertRoutes,
  ...retentionRoutes,
];

/**
 * The agent API and every admin route, as OpenAPI 3.1,
 * generated from the same zod schemas that validate requests, so agent frameworks can load it as tools.
 */
export function openApiDocument(serverUrl: string) {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Agent Governance — agent API',
      version: '1.0.0',
      description:
        'Submit CRM field changes and drafts for governance. Each record × property gets a decision (applied, pending_approval, denied, failed) with stable reason codes. The /v1/admin routes (admin token) publish policies, manage agents, delegations and kill switches, set up the CRM, verify and export the audit, decide approvals, review QA samples, confirm dual-control requests and roll back.',
    },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        agentToken: { type: 'http', scheme: 'bearer' },
        adminToken: { type: 'http', scheme: 'bearer' },
      },
    },
    security: [{ agentToken: [] }],
    paths: openApiPaths(apiRoutes),
  });
}
