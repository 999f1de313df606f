import { expect } from 'vitest';
import { byCrm, salesforceResolver } from '../../server/src/runtime.ts';
import { SANDBOX_SALESFORCE_CLIENT } from '../../server/src/sandbox/salesforce/start.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { createWorkspace } from '../../server/src/services/governance/index.ts';
import { setSalesforceSession } from '../../server/src/store/workspace-store.ts';
import { ADMIN, api, type Harness } from './harness.ts';

/**
 * The harness's `crmFor` for workspaces of either CRM or both, as the server's runtime routes them:
 * the fake HubSpot for HubSpot connections, the Salesforce adapter (its minted tokens sealed and
 * kept) for Salesforce ones.
 */
export function hubspotOrSalesforce(hubspot: ServiceDeps['crmFor'], deps: ServiceDeps): ServiceDeps['crmFor'] {
  return byCrm(
    hubspot,
    salesforceResolver({
      secrets: deps.secrets,
      saveSession: (workspaceId, sealed) => setSalesforceSession(deps.db, workspaceId, sealed),
      onBudgetStop: async () => {},
    }),
  );
}

/** The local Salesforce's External Client App, as workspace add and workspace connect take it. */
export function sandboxSalesforceConnection(sandboxUrl: string) {
  return { loginUrl: sandboxUrl, auth: { kind: 'client_credentials' as const, ...SANDBOX_SALESFORCE_CLIENT } };
}

/** A workspace on the harness's HubSpot, as portal `portalId`, with the local Salesforce connected second through the admin API. */
export async function workspaceOfBothCrms(harness: Harness, sandboxUrl: string, portalId: string) {
  const ws = await createWorkspace(
    harness.deps,
    { name: 'Both', hubspotPortalId: portalId, hubspotToken: harness.hubspot.accessToken },
    ADMIN,
  );
  const connected = await api(harness, 'POST', '/v1/admin/workspace/connections', {
    token: ws.adminToken,
    body: { crm: 'salesforce', connection: sandboxSalesforceConnection(sandboxUrl) },
  });
  expect(connected.status).toBe(201);
  return ws;
}
