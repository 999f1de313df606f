import type { ApprovalView } from '../../../shared/approval-api.ts';
import { AppError } from '../errors.ts';
import { findApproval, listApprovals, type ApprovalFilter, type StoredApproval } from '../store/approval-store.ts';
import type { ServiceDeps } from './deps.ts';

export function approvalView(stored: StoredApproval): ApprovalView {
  return {
    id: stored.id,
    changeSetId: stored.changeSetId,
    batchId: stored.batchId,
    agentId: stored.agentId,
    objectType: stored.objectType,
    recordId: stored.recordId,
    policyVersion: stored.policyVersion,
    tier: stored.tier,
    status: stored.status,
    expiresAt: stored.expiresAt.toISOString(),
    recordOwnerId: stored.recordOwnerId,
    delegatedUserId: stored.delegatedUserId,
    createdAt: stored.createdAt.toISOString(),
    decidedAt: stored.decidedAt?.toISOString() ?? null,
    message: stored.message,
    items: stored.items.map((item) => ({
      property: item.property,
      changeId: item.changeId,
      before: item.beforeValue,
      proposed: item.proposedValue,
      ...(item.edited ? { edited: item.editedValue } : {}),
      status: item.status,
      approvedBy: item.approvedBy,
    })),
  };
}

export async function requireApproval(deps: ServiceDeps, workspaceId: string, approvalId: string): Promise<StoredApproval> {
  const stored = await findApproval(deps.db, workspaceId, approvalId);
  // Another workspace's approval answers exactly as an unknown one: ids do not leak across workspaces.
  if (!stored) throw new AppError('NOT_FOUND', `There is no approval ${approvalId} in this workspace.`);
  return stored;
}

export async function getApproval(deps: ServiceDeps, workspaceId: string, approvalId: string): Promise<ApprovalView> {
  return approvalView(await requireApproval(deps, workspaceId, approvalId));
}

export async function findApprovals(deps: ServiceDeps, workspaceId: string, filter: ApprovalFilter): Promise<ApprovalView[]> {
  return (await listApprovals(deps.db, workspaceId, filter)).map(approvalView);
}
