import { findDueApplies, workspacesWithAppliesDue } from '../../store/approval-apply-store.ts';
import { workspacesWithMirrorDue } from '../../store/approval-mirror-store.ts';
import { findWorkspace } from '../../store/workspace-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { ABANDONED_APPLY_MS, applyApprovals } from './apply-approval.ts';

const BATCH = 500;

/**
 * Writes approved approvals whose write never happened or failed (a CRM outage, a kill switch):
 * an approval is never lost between `approved` and `applied`, and claims keep it from being
 * written twice. Returns how many were due.
 */
export async function retryDueApplies(deps: ServiceDeps, only?: { workspaceId: string }): Promise<number> {
  const now = deps.clock();
  const due = await findDueApplies(deps.db, now, abandonedBefore(deps, now), BATCH, only);
  // Each workspace on its own: one portal waiting out a 429 storm never holds up another's writes.
  await Promise.all(
    [...Map.groupBy(due, (approval) => approval.workspaceId)].map(async ([workspaceId, approvals]) => {
      const workspace = await findWorkspace(deps.db, workspaceId);
      if (workspace) await applyApprovals(deps, { workspace, approvalIds: approvals.map((approval) => approval.id) });
    }),
  );
  return due.length;
}

/**
 * Workspaces with approved writes or CRM copies due, but those in `except` (the approval job's lanes
 * busy with them), at most `limit`.
 */
export async function workspacesWithApprovalWork(
  deps: ServiceDeps,
  query: { except: readonly string[]; limit: number },
): Promise<string[]> {
  const now = deps.clock();
  const [applies, mirror] = await Promise.all([
    workspacesWithAppliesDue(deps.db, { now, abandonedBefore: abandonedBefore(deps, now), ...query }),
    workspacesWithMirrorDue(deps.db, now, query.except),
  ]);
  return [...new Set([...applies, ...mirror])].slice(0, query.limit);
}

const abandonedBefore = (deps: ServiceDeps, now: Date) =>
  new Date(now.getTime() - (deps.approvalApplyClaimMs ?? ABANDONED_APPLY_MS));
