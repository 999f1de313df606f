import type { AuditActionView, AuditEventView } from '../../../../shared/console-api.ts';
import { AppError } from '../../errors.ts';
import { type AuditEventRow, auditEventsOnRecordInBatch, findAuditEvent } from '../../store/console-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { type ExtensionCaller, requirePermission } from '../extension/index.ts';

/**
 * One write reconstructed from the audit trail: the event asked for, and the other events on
 * its record in its batch, which carry the decision and its reasons, the evidence, the policy
 * version, each approval and the CRM's result.
 */
export async function auditAction(
  deps: ServiceDeps,
  { workspace, caller }: ExtensionCaller,
  seq: number,
): Promise<AuditActionView> {
  requirePermission(caller, caller.permissions.searchAudit, 'read the audit trail');
  const event = await findAuditEvent(deps.db, workspace.id, seq);
  if (!event) throw new AppError('NOT_FOUND', `There is no audit event ${seq} in this workspace.`);
  const story =
    event.batchId && event.recordId
      ? await auditEventsOnRecordInBatch(deps.db, workspace.id, event.batchId, event.recordId)
      : [event];
  return { event: eventView(event), story: story.map(eventView) };
}

function eventView(row: AuditEventRow): AuditEventView {
  return {
    seq: row.seq,
    occurredAt: row.occurredAt.toISOString(),
    type: row.type,
    actor: row.actor,
    agentId: row.agentId,
    batchId: row.batchId,
    changeSetId: row.changeSetId,
    objectType: row.objectType,
    recordId: row.recordId,
    property: row.property,
    before: row.before,
    after: row.after,
    evidence: row.evidence,
    reasons: row.reasons,
    policyVersion: row.policyVersion,
    data: row.data,
    hash: row.hash,
  };
}
