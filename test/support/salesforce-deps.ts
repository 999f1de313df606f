import type { SalesforceCrmOptions } from '../../server/src/crm/salesforce/adapter.ts';
import { salesforceResolver } from '../../server/src/runtime.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { recordCrmBudgetStop } from '../../server/src/services/governance/index.ts';
import type { Db } from '../../server/src/store/database.ts';
import { setSalesforceSession } from '../../server/src/store/workspace-store.ts';
import { testDeps } from './deps.ts';

/**
 * testDeps whose workspaces are Salesforce orgs (the local Salesforce), resolved as the server
 * resolves them: each org's session stored sealed, a budget stop recorded. `adapter` sets the
 * adapter's own options (a lower Bulk threshold, a faster poll).
 */
export function salesforceTestDeps(db: Db, adapter?: Partial<SalesforceCrmOptions>): ServiceDeps {
  const base = testDeps(db);
  const deps: ServiceDeps = {
    ...base,
    crmFor: salesforceResolver({
      secrets: base.secrets,
      saveSession: (id, sealed) => setSalesforceSession(db, id, sealed),
      onBudgetStop: (id, usage) => recordCrmBudgetStop(deps, id, usage),
      ...(adapter ? { adapter } : {}),
    }),
  };
  return deps;
}
