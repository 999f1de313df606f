import type { Evidence } from '../../../../shared/agent-api.ts';
import type { AssociationApprovalView, CreationApprovalView, ListingStatus } from '../../../../shared/approval-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { ReasonCode } from '../../../../shared/reason-codes.ts';
import { heldEntrySelection, heldEntryStatus } from '../../domain/held-entry.ts';
import { AppError } from '../../errors.ts';
import {
  listHeldAssociations,
  listHeldCreations,
  type HeldAssociation,
  type HeldCreation,
  type HeldEntryFilter,
} from '../../store/held-entry-store.ts';
import type { ServiceDeps } from '../common/index.ts';

export type HeldEntryView = CreationApprovalView | AssociationApprovalView;

/**
 * Held creations and associations (issue 21) as the approvals listing shows them, newest first:
 * a record's are those that created it or likely duplicate it, and links from or to it.
 */
export async function findHeldEntries(
  deps: ServiceDeps,
  workspaceId: string,
  filter: {
    ids?: readonly string[] | undefined;
    recordIds?: readonly string[] | undefined;
    /** With recordIds: only entries about a record of this object type. */
    objectType?: string | undefined;
    batchId?: string | undefined;
    agentId?: string | undefined;
    status?: ListingStatus | undefined;
    kind?: HeldEntryView['kind'] | undefined;
    /** Only entries held at or before this instant (what has waited long enough). */
    createdBefore?: Date | undefined;
    limit: number;
  },
): Promise<HeldEntryView[]> {
  const selection = filter.status === undefined ? undefined : heldEntrySelection(filter.status);
  if (selection === null) return [];
  const query: HeldEntryFilter = {
    ids: filter.ids,
    record: filter.recordIds === undefined ? undefined : { recordIds: filter.recordIds, objectType: filter.objectType },
    batchId: filter.batchId,
    agentId: filter.agentId,
    selection,
    createdBefore: filter.createdBefore,
    limit: filter.limit,
  };
  const [creations, associations] = await Promise.all([
    filter.kind === 'association' ? [] : listHeldCreations(deps.db, workspaceId, query),
    filter.kind === 'creation' ? [] : listHeldAssociations(deps.db, workspaceId, query),
  ]);
  return [...creations.map(creationApprovalView), ...associations.map(associationApprovalView)]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
    .slice(0, filter.limit);
}

export function creationApprovalView(row: HeldCreation): CreationApprovalView {
  return {
    kind: 'creation',
    ...heldFields(row),
    recordId: row.recordId,
    properties: row.properties,
    duplicateOf: row.duplicateOf,
  };
}

export function associationApprovalView(row: HeldAssociation): AssociationApprovalView {
  return {
    kind: 'association',
    ...heldFields(row),
    recordId: row.recordId,
    toObjectType: row.toObjectType as AssociationApprovalView['toObjectType'],
    toRecordId: row.toRecordId,
  };
}

function heldFields(row: HeldCreation | HeldAssociation): Omit<HeldEntryView, 'kind' | 'recordId'> {
  const { tier } = row;
  // Held entries have these tiers and an expiry (record-entries sets both with the hold); the listing reads no others.
  if ((tier !== 'approval' && tier !== 'two_person') || row.expiresAt === null)
    throw new AppError('INTERNAL', `Entry ${row.id} was never held; it is no approval.`);
  return {
    id: row.id,
    changeSetId: row.changeSetId,
    batchId: row.batchId,
    agentId: row.agentId,
    objectType: row.objectType as ObjectType,
    policyVersion: row.policyVersion,
    tier,
    status: heldEntryStatus(row),
    expiresAt: row.expiresAt.toISOString(),
    delegatedUserId: row.delegatedUserId,
    createdAt: row.createdAt.toISOString(),
    decidedAt: row.decidedAt?.toISOString() ?? null,
    message: row.message,
    approvedBy: row.approvedBy,
    reasons: row.reasons as ReasonCode[],
    // Stored as the agent sent it, validated then.
    evidence: row.evidence as Evidence,
  };
}
