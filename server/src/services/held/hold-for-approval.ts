import type { CrmRecordValues } from '../../crm/port.ts';
import type { NewApproval, NewApprovalItem } from '../../store/approval-store.ts';
import type { NewAuditEvent } from '../../domain/audit-chain.ts';
import type { ChangeRow } from '../../store/change-store.ts';
import { actorJson, type Actor, newId } from '../common/index.ts';

export interface HoldInput {
  workspaceId: string;
  changeSetId: string;
  agentId: string;
  batchId: string;
  objectType: string;
  policyVersion: number;
  actor: Actor;
  rows: readonly ChangeRow[];
  records: ReadonlyMap<string, CrmRecordValues>;
  /** The CRM's owner property (CrmPort.ownerProperty), read from `records`. */
  ownerProperty: string;
  expiryHours: number;
  now: Date;
}

export interface HeldApprovals {
  approvals: NewApproval[];
  items: NewApprovalItem[];
  events: NewAuditEvent[];
}

/**
 * Turns a change set's held writes into approvals, one per record, with their audit events; the
 * caller stores them in the transaction that stores the decisions, so a held write is never
 * stored without the approval a person decides it by.
 */
export function planApprovals(input: HoldInput): HeldApprovals {
  const held = Map.groupBy(
    input.rows.filter((row) => row.decision === 'pending_approval'),
    (row) => row.recordId,
  );
  const expiresAt = new Date(input.now.getTime() + input.expiryHours * 3_600_000);
  const delegatedUserId = input.actor.type === 'agent' ? (input.actor.onBehalfOf?.crmUserId ?? null) : null;
  const approvals: NewApproval[] = [];
  const items: NewApprovalItem[] = [];
  const events: NewAuditEvent[] = [];
  for (const [recordId, rows] of held) {
    const id = newId();
    const tier: NewApproval['tier'] = rows.some((row) => row.tier === 'two_person') ? 'two_person' : 'approval';
    const recordOwnerId = input.records.get(recordId)?.[input.ownerProperty] || null;
    approvals.push({
      id,
      workspaceId: input.workspaceId,
      changeSetId: input.changeSetId,
      agentId: input.agentId,
      batchId: input.batchId,
      objectType: input.objectType,
      recordId,
      policyVersion: input.policyVersion,
      tier,
      status: 'pending',
      expiresAt,
      recordOwnerId,
      delegatedUserId,
      createdAt: input.now,
    });
    for (const row of rows) {
      items.push({
        approvalId: id,
        property: row.property,
        changeId: row.id,
        beforeValue: row.beforeValue,
        proposedValue: row.proposedValue,
        status: 'pending',
        approvedBy: [],
      });
    }
    events.push({
      type: 'approval.created',
      actor: actorJson(input.actor),
      agentId: input.agentId,
      batchId: input.batchId,
      changeSetId: input.changeSetId,
      objectType: input.objectType,
      recordId,
      before: Object.fromEntries(rows.map((row) => [row.property, row.beforeValue])),
      after: Object.fromEntries(rows.map((row) => [row.property, row.proposedValue])),
      reasons: [...new Set(rows.flatMap((row) => row.reasons))],
      policyVersion: input.policyVersion,
      data: { approvalId: id, tier, expiresAt: expiresAt.toISOString(), recordOwnerId, delegatedUserId },
    });
  }
  return { approvals, items, events };
}
