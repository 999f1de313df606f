import type { ServiceDeps } from '../common/index.ts';
import { withAuditChain } from '../common/index.ts';

/**
 * The CRM adapter stopped calling an org whose daily API allocation is spent up to the share the
 * workspace allows (issue 20): audited once as it starts refusing, with the usage it read.
 */
export async function recordCrmBudgetStop(
  deps: ServiceDeps,
  workspaceId: string,
  usage: { used: number; limit: number; share: number },
): Promise<void> {
  await withAuditChain(deps.db, workspaceId, deps.clock, async (_tx, audit) => {
    audit.append({
      type: 'crm.api_budget_reached',
      actor: { type: 'system', name: 'crm-adapter' },
      data: { apiUsed: usage.used, apiLimit: usage.limit, share: usage.share },
    });
  });
}
