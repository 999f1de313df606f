import { byCrm, salesforceResolver } from '../../server/src/runtime.ts';
import { SANDBOX_SALESFORCE_CLIENT } from '../../server/src/sandbox/salesforce/start.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { setSalesforceSession } from '../../server/src/store/workspace-store.ts';

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
