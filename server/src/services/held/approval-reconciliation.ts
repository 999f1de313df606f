import type { ApprovalDecisionRequest } from '../../../../shared/approval-api.ts';
import { APPROVAL_OBJECT_TYPE, APPROVAL_STATUS_PROPERTY, CRM_DISPLAY_NAMES } from '../../../../shared/crm-names.ts';
import type { CrmPort } from '../../crm/port.ts';
import {
  lockApprovalByCrmObject,
  lockOpenApprovalsOnRecords,
  markMirrorDue,
  markStale,
  saveTransitions,
  type StoredApproval,
  type TransitionWrite,
} from '../../store/approval-store.ts';
import type { AuditAppender } from '../common/index.ts';
import type { Tx } from '../../store/database.ts';
import type { FieldChangeRow } from '../../store/field-history-store.ts';
import { findPerson } from '../../store/people-store.ts';
import type { SecretBox } from '../../secrets.ts';
import { lockActionByApprovalObject, markActionMirrorDue } from '../../store/action-store.ts';
import { decideLockedAction } from './decide-action.ts';
import { decideLocked } from './decide-approval.ts';

const WEBHOOKS = { type: 'system', name: 'hubspot-webhooks' } as const;

/**
 * What changes seen in HubSpot mean for approvals (issue 5 with issue 6), inside the webhook
 * processing transaction, in the order they happened: a person's edit of a held property makes
 * its open approvals stale (nothing will overwrite it); a deleted or merged record closes its
 * open approvals; a person setting an approval object's status to approved or rejected in
 * HubSpot is their decision, under the same rules as the API, for a record's held writes (the
 * approval job then writes an approved one) and for a held draft (a released task or note is
 * the caller's to create after the commit). One query finds the open approvals of every record
 * the batch touches.
 */
export async function reconcileApprovals(
  tx: Tx,
  audit: AuditAppender,
  input: {
    workspaceId: string;
    rows: readonly FieldChangeRow[];
    now: Date;
    secrets: SecretBox;
    crm: CrmPort;
  },
): Promise<Reconciled> {
  const { workspaceId, rows, now, crm } = input;
  const onRecords = rows.filter((row) => isRecordClosed(row) || (row.kind === 'person' && !isApprovalStatus(row)));
  const open = await lockOpenApprovalsOnRecords(tx, workspaceId, [...new Set(onRecords.map((row) => row.recordId))]);
  const byRecord = Map.groupBy(open, (approval) => `${approval.objectType}:${approval.recordId}`);
  const closed = new Set<string>();
  const reconciled: Reconciled = { rejected: [], releasedDrafts: [], unmatchedDecisions: [] };
  for (const row of rows) {
    if (row.kind === 'person' && isApprovalStatus(row)) {
      const decided = await decideFromCrm(tx, audit, row, input);
      if (decided.rejected) reconciled.rejected.push(decided.rejected);
      if (decided.releasedDraft) reconciled.releasedDrafts.push(decided.releasedDraft);
      if (decided.unmatched) reconciled.unmatchedDecisions.push(row.eventId);
      continue;
    }
    if (row.kind !== 'person' && !isRecordClosed(row)) continue;
    for (const approval of byRecord.get(`${row.objectType}:${row.recordId}`) ?? []) {
      if (closed.has(approval.id)) continue;
      const message = staleMessage(approval, row, crm.forObject(approval.objectType).userOfSource(row.sourceId));
      if (message === undefined) continue;
      await closeStale(tx, audit, approval, row, message, now);
      closed.add(approval.id);
    }
  }
  return reconciled;
}

/** A rejection made on the approval object inside HubSpot: the rejection-rate kill trigger counts it. */
export interface RejectedInCrm {
  agentId: string;
  batchId: string;
}

export interface Reconciled {
  rejected: RejectedInCrm[];
  /** Drafts released by a decision in HubSpot: a task or a note among them is created after the commit. */
  releasedDrafts: string[];
  /**
   * Events of decisions on an approval object we do not know yet: the mirror created it in the CRM
   * and has not stored its id (a person can decide in that moment, or while a failed mirror waits to
   * retry). The mirror sends them back to processing once it stores the id.
   */
  unmatchedDecisions: number[];
}

function isRecordClosed(row: FieldChangeRow): boolean {
  return row.kind === 'record_deleted' || row.kind === 'record_merged';
}

function isApprovalStatus(row: FieldChangeRow): boolean {
  // HubSpot's custom object type ids start `2-`; other CRMs' adapters name our approval object APPROVAL_OBJECT_TYPE.
  return (
    row.property === APPROVAL_STATUS_PROPERTY &&
    (row.objectType.startsWith('2-') || row.objectType === APPROVAL_OBJECT_TYPE)
  );
}

/** Why this change makes the approval stale, or undefined when it does not. */
function staleMessage(approval: StoredApproval, row: FieldChangeRow, userId: string | null): string | undefined {
  if (isRecordClosed(row)) {
    const into = (row.data as { primaryObjectId?: unknown } | null)?.primaryObjectId;
    const why =
      row.kind === 'record_deleted'
        ? 'was deleted in the CRM'
        : `was merged into record ${String(into ?? 'another record')} in the CRM`;
    return `Record ${row.recordId} ${why}; nothing will be written.`;
  }
  const item = approval.items.find(
    (candidate) => candidate.property === row.property && candidate.status !== 'rejected',
  );
  // An edit before the proposal is already its `before`; setting the same value again changes nothing.
  if (!item || row.occurredAt <= approval.createdAt || (row.value ?? null) === item.beforeValue) return undefined;
  const who = userId === null ? 'someone' : `user ${userId}`;
  return `${who} changed ${row.property} in the CRM after the agent proposed; nothing will be overwritten.`;
}

async function closeStale(
  tx: Tx,
  audit: AuditAppender,
  approval: StoredApproval,
  row: FieldChangeRow,
  message: string,
  now: Date,
): Promise<void> {
  await markStale(tx, approval.id, message, now);
  audit.append({
    type: 'approval.stale',
    actor: WEBHOOKS,
    agentId: approval.agentId,
    batchId: approval.batchId,
    changeSetId: approval.changeSetId,
    objectType: approval.objectType,
    recordId: approval.recordId,
    policyVersion: approval.policyVersion,
    data: {
      approvalId: approval.id,
      status: 'stale',
      message,
      eventId: row.eventId,
      cause: row.kind,
      property: row.property || null,
      sourceId: row.sourceId,
    },
  });
}

interface CrmDecision {
  rejected?: RejectedInCrm;
  releasedDraft?: string;
  unmatched?: true;
}

async function decideFromCrm(
  tx: Tx,
  audit: AuditAppender,
  row: FieldChangeRow,
  { now, secrets, crm }: { now: Date; secrets: SecretBox; crm: CrmPort },
): Promise<CrmDecision> {
  if (row.value !== 'approved' && row.value !== 'rejected') return {};
  // The approval object is in the CRM of the record the approval concerns (issue 20): that CRM names who set it.
  const decision = (userId: string, recordCrm: CrmPort): ApprovalDecisionRequest =>
    row.value === 'approved'
      ? { kind: 'approve', actingUserId: userId }
      : {
          kind: 'reject',
          actingUserId: userId,
          reason: `Rejected in ${CRM_DISPLAY_NAMES[recordCrm.vendor]} on the approval record.`,
        };
  const stored = await lockApprovalByCrmObject(tx, row.workspaceId, row.recordId);
  if (stored) {
    const recordCrm = crm.forObject(stored.objectType);
    const userId = recordCrm.userOfSource(row.sourceId);
    return userId ? decideApprovalFromCrm(tx, audit, { stored, request: decision(userId, recordCrm), now }) : {};
  }
  const draft = await lockActionByApprovalObject(tx, row.workspaceId, row.recordId);
  if (!draft) return { unmatched: true };
  const draftCrm = crm.forObject(draft.objectType);
  const userId = draftCrm.userOfSource(row.sourceId);
  if (!userId) return {};
  const request = decision(userId, draftCrm);
  const person = await findPerson(tx, row.workspaceId, userId);
  // No CRM read inside this transaction: the address was checked at submission, and opt-outs the
  // webhooks noted and replies or unsubscribes reported still stop the email (the agent's read checks again).
  const outcome = await decideLockedAction(tx, audit, secrets, {
    row: draft,
    person,
    request,
    via: 'hubspot_app',
    contact: undefined,
    contactFields: draftCrm.contactFields,
    now,
  });
  // A refusal is audited; the mirror job then writes the true status back over the person's edit.
  if (!outcome.ok) await markActionMirrorDue(tx, row.workspaceId, draft.id);
  return outcome.ok && outcome.released ? { releasedDraft: draft.id } : {};
}

async function decideApprovalFromCrm(
  tx: Tx,
  audit: AuditAppender,
  input: { stored: StoredApproval; request: ApprovalDecisionRequest; now: Date },
): Promise<CrmDecision> {
  const { stored, request, now } = input;
  const person = await findPerson(tx, stored.workspaceId, request.actingUserId);
  const writes: TransitionWrite[] = [];
  const outcome = decideLocked(audit, { stored, person, request, via: 'hubspot_app', now, writes });
  await saveTransitions(tx, writes);
  // A refusal is audited by decideLocked; the mirror job then writes the true status back over the person's edit.
  if (!outcome.ok) {
    await markMirrorDue(tx, stored.id);
    return {};
  }
  return request.kind === 'reject' ? { rejected: { agentId: stored.agentId, batchId: stored.batchId } } : {};
}
