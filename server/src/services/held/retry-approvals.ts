import { findDueApplies } from '../../store/approval-apply-store.ts';
import { findWorkspace } from '../../store/workspace-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { ABANDONED_APPLY_MS, applyApprovals } from './apply-approval.ts';

const BATCH = 500;

/**
 * Writes approved approvals whose write never happened or failed (a CRM outage, a kill switch):
 * an approval is never lost between `approved` and `applied`, and claims keep it from being
 * written twice. Returns how many were due.
 */
export async function retryDueApplies(deps: ServiceDeps): Promise<number> {
  const now = deps.clock();
  const due = await findDueApplies(
    deps.db,
    now,
    new Date(now.getTime() - (deps.approvalApplyClaimMs ?? ABANDONED_APPLY_MS)),
    BATCH,
  );
  // Each workspace on its own: one portal waiting out a 429 storm never holds up another's writes.
  await Promise.all(
    [...Map.groupBy(due, (approval) => approval.workspaceId)].map(async ([workspaceId, approvals]) => {
      const workspace = await findWorkspace(deps.db, workspaceId);
      if (workspace) await applyApprovals(deps, { workspace, approvalIds: approvals.map((approval) => approval.id) });
    }),
  );
  return due.length;
}
