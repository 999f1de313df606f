import { v7 as uuidv7 } from 'uuid';
import type { BatchApprovalDecisionRequest, BatchDecisionResult } from '../../../shared/approval-api.ts';
import { lockApprovals, saveTransitions, statusesOf, type TransitionWrite } from '../store/approval-store.ts';
import { withAuditChain } from '../store/audit-store.ts';
import { findPerson } from '../store/people-store.ts';
import type { WorkspaceRow } from '../store/workspace-store.ts';
import { applyApprovals } from './apply-approval.ts';
import { decideLocked, type DecidingPerson, type Outcome } from './decide-approval.ts';
import type { ServiceDeps } from './deps.ts';
import { checkRejectionRate } from './kill-triggers.ts';

/**
 * One person decides many approvals in one transaction: each is locked and decided by the same
 * rules as a single decision (and audited as one), refusals are reported per approval rather
 * than failing the batch, and one `approval.batch_decided` event records the manifest. The
 * approved ones are then written to the CRM in batches of 100.
 */
export async function decideApprovalsBatch(
  deps: ServiceDeps,
  input: { workspace: WorkspaceRow; request: BatchApprovalDecisionRequest; via: 'admin_api' | 'hubspot_app'; /** As in decideApproval: the HubSpot app's resolved person. */ person?: DecidingPerson },
): Promise<BatchDecisionResult> {
  const { workspace, request } = input;
  const batchDecisionId = uuidv7();
  const decided = await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const now = deps.clock();
    const locked = new Map((await lockApprovals(tx, workspace.id, request.approvalIds)).map((stored) => [stored.id, stored]));
    const person = input.person ?? (await findPerson(tx, workspace.id, request.actingUserId));
    const single = request.kind === 'approve' ? { kind: 'approve' as const, actingUserId: request.actingUserId } : { kind: 'reject' as const, actingUserId: request.actingUserId, reason: request.reason };
    const results = new Map<string, Outcome | undefined>();
    const writes: TransitionWrite[] = [];
    for (const approvalId of request.approvalIds) {
      const stored = locked.get(approvalId);
      results.set(approvalId, stored ? decideLocked(audit, { stored, person, request: single, via: input.via, now, batchDecisionId, writes }) : undefined);
    }
    await saveTransitions(tx, writes);
    const decidedIds = request.approvalIds.filter((id) => results.get(id)?.ok);
    audit.append({
      type: 'approval.batch_decided',
      actor: { type: 'person', name: `crm-user:${request.actingUserId}`, crmUserId: request.actingUserId, role: person?.role ?? null, via: input.via },
      data: {
        batchDecisionId,
        kind: request.kind,
        approvalIds: request.approvalIds,
        decided: decidedIds,
        refused: request.approvalIds.filter((id) => !results.get(id)?.ok),
        ...(request.kind === 'reject' ? { reason: request.reason } : {}),
        ...(request.note ? { note: request.note } : {}),
      },
    });
    return { results, batches: [...locked.values()].map((stored) => ({ agentId: stored.agentId, batchId: stored.batchId })) };
  });

  const outcomes = decided.results;
  const approved = request.approvalIds.filter((id) => {
    const outcome = outcomes.get(id);
    return outcome?.ok === true && outcome.approved;
  });
  await applyApprovals(deps, { workspace, approvalIds: approved });
  if (request.kind === 'reject') await checkRejectionRate(deps, workspace.id, decided.batches);
  const statuses = await statusesOf(deps.db, workspace.id, request.approvalIds);
  const results = request.approvalIds.map((approvalId): BatchDecisionResult['results'][number] => {
    const outcome = outcomes.get(approvalId);
    if (outcome === undefined) return { approvalId, status: null, refusal: { code: 'not_found', message: `There is no approval ${approvalId} in this workspace.` } };
    if (!outcome.ok) return { approvalId, status: statuses.get(approvalId) ?? null, refusal: { code: outcome.code, message: outcome.message } };
    return { approvalId, status: statuses.get(approvalId) ?? null };
  });
  return {
    batchDecisionId,
    results,
    summary: { decided: results.filter((result) => !result.refusal).length, refused: results.filter((result) => result.refusal).length, applied: results.filter((result) => result.status === 'applied').length },
  };
}
