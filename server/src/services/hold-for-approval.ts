import type { CrmRecordValues } from '../crm/port.ts';
import { insertApprovals, type NewApproval, type NewApprovalItem } from '../store/approval-store.ts';
import type { AuditAppender } from '../store/audit-store.ts';
import type { ChangeRow } from '../store/change-store.ts';
import type { Tx } from '../store/database.ts';
import { actorJson, type Actor } from './deps.ts';
import { newId } from './ids.ts';

/** The CRM property naming a record's owner; read with the current values so a rep's ownership can be checked. */
export const OWNER_PROPERTY = 'hubspot_owner_id';

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
  expiryHours: number;
  now: Date;
}

/**
 * Turns a change set's held writes into approvals, one per record, inside the transaction that
 * stores the decisions: a held write is never stored without the approval a person decides it by.
 */
export async function holdForApproval(tx: Tx, audit: AuditAppender, input: HoldInput): Promise<void> {
  const held = Map.groupBy(
    input.rows.filter((row) => row.decision === 'pending_approval'),
    (row) => row.recordId,
  );
  if (held.size === 0) return;

  const expiresAt = new Date(input.now.getTime() + input.expiryHours * 3_600_000);
  const delegatedUserId = input.actor.type === 'agent' ? (input.actor.onBehalfOf?.crmUserId ?? null) : null;
  const approvalRows: NewApproval[] = [];
  const itemRows: NewApprovalItem[] = [];
  for (const [recordId, rows] of held) {
    const id = newId();
    const tier: NewApproval['tier'] = rows.some((row) => row.tier === 'two_person') ? 'two_person' : 'approval';
    const recordOwnerId = input.records.get(recordId)?.[OWNER_PROPERTY] || null;
    approvalRows.push({
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
      itemRows.push({ approvalId: id, property: row.property, changeId: row.id, beforeValue: row.beforeValue, proposedValue: row.proposedValue, status: 'pending', approvedBy: [] });
    }
    audit.append({
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
  await insertApprovals(tx, approvalRows, itemRows);
}
