import { ACTION_STATUS_NAMES } from '../../../../shared/action-api.ts';
import type {
  APPROVAL_KINDS,
  HELD_ENTRY_KINDS,
  ApprovalListingView,
  ApprovalView,
  DraftApprovalView,
  ListingStatus,
} from '../../../../shared/approval-api.ts';
import { draftApprovalStatus } from '../../domain/approval-mirror.ts';
import { AppError } from '../../errors.ts';
import { findAction, listActions, listOutcomes, type ActionRow, type OutcomeRow } from '../../store/action-store.ts';
import { findApproval, listApprovals, type ApprovalFilter, type StoredApproval } from '../../store/approval-store.ts';
import { actionView } from '../actions/index.ts';
import type { ServiceDeps } from '../common/index.ts';
import { findHeldEntries } from './held-entries.ts';

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
      status: closedWithout(stored.status) && item.status !== 'rejected' ? stored.status : item.status,
      approvedBy: item.approvedBy,
    })),
  };
}

/** An approval that ended without being applied or rejected: none of its items will be written. */
function closedWithout(status: StoredApproval['status']): status is 'stale' | 'expired' | 'withdrawn' {
  return status === 'stale' || status === 'expired' || status === 'withdrawn';
}

export async function requireApproval(
  deps: ServiceDeps,
  workspaceId: string,
  approvalId: string,
): Promise<StoredApproval> {
  const stored = await findApproval(deps.db, workspaceId, approvalId);
  // Another workspace's approval answers exactly as an unknown one: ids do not leak across workspaces.
  if (!stored) throw new AppError('NOT_FOUND', `There is no approval ${approvalId} in this workspace.`);
  return stored;
}

/** A held draft as one of its record's approvals (see shared/approval-api.ts). */
export function draftApprovalView(row: ActionRow, outcomes: readonly OutcomeRow[]): DraftApprovalView {
  // Held drafts have these tiers and an expiry (submit-action sets both with the hold); others are no approvals.
  if ((row.tier !== 'approval' && row.tier !== 'two_person') || row.expiresAt === null)
    throw new AppError('INTERNAL', `Action ${row.id} was never held; it is no approval.`);
  const draft = actionView(row, outcomes);
  return {
    kind: 'draft',
    id: row.id,
    agentId: row.agentId,
    objectType: draft.objectType,
    recordId: row.recordId,
    policyVersion: row.policyVersion,
    tier: row.tier,
    status: draftApprovalStatus(row.status),
    expiresAt: row.expiresAt.toISOString(),
    recordOwnerId: row.recordOwnerId,
    delegatedUserId: row.delegatedUserId,
    createdAt: draft.createdAt,
    decidedAt: draft.decidedAt,
    message: row.message,
    draft,
  };
}

/**
 * One approval of any kind (the id is a uuid): a record's held writes, a held draft, or a held
 * creation or association (by its changeId). Ids are unique across all of them (UUIDv7).
 */
export async function getApproval(
  deps: ServiceDeps,
  workspaceId: string,
  approvalId: string,
): Promise<ApprovalListingView> {
  const stored = await findApproval(deps.db, workspaceId, approvalId);
  if (stored) return { kind: 'field_change', ...approvalView(stored) };
  const draft = await findAction(deps.db, workspaceId, approvalId);
  if (draft && (draft.tier === 'approval' || draft.tier === 'two_person'))
    return draftApprovalView(draft, (await listOutcomes(deps.db, workspaceId, [draft.id])).get(draft.id) ?? []);
  const [entry] = await findHeldEntries(deps, workspaceId, { ids: [approvalId], limit: 1 });
  if (!entry) throw new AppError('NOT_FOUND', `There is no approval ${approvalId} in this workspace.`);
  return entry;
}

export interface ApprovalListFilter extends Omit<ApprovalFilter, 'status'> {
  kind?: (typeof APPROVAL_KINDS)[number] | (typeof HELD_ENTRY_KINDS)[number] | undefined;
  /** `failed` is held creations' and associations' only. */
  status?: ListingStatus | undefined;
}

/**
 * A record's, an agent's or a batch's approvals of every kind, newest first: held writes, held
 * drafts, held creations and associations. Drafts have no batch, so a batch filter lists no draft.
 */
export async function findApprovals(
  deps: ServiceDeps,
  workspaceId: string,
  filter: ApprovalListFilter,
): Promise<ApprovalListingView[]> {
  const { status } = filter;
  const fieldChanges =
    (filter.kind === undefined || filter.kind === 'field_change') && status !== 'failed'
      ? (await listApprovals(deps.db, workspaceId, { ...filter, status })).map(
          (stored): ApprovalListingView => ({ kind: 'field_change', ...approvalView(stored) }),
        )
      : [];
  const drafts =
    (filter.kind === undefined || filter.kind === 'draft') && filter.batchId === undefined
      ? await findDraftApprovals(deps, workspaceId, filter)
      : [];
  const entries =
    filter.kind === undefined || filter.kind === 'creation' || filter.kind === 'association'
      ? await findHeldEntries(deps, workspaceId, {
          ...filter,
          recordIds: filter.recordId === undefined ? undefined : [filter.recordId],
          kind: filter.kind,
        })
      : [];
  return [...fieldChanges, ...drafts, ...entries]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
    .slice(0, filter.limit);
}

async function findDraftApprovals(
  deps: ServiceDeps,
  workspaceId: string,
  filter: ApprovalListFilter,
): Promise<DraftApprovalView[]> {
  const statuses =
    filter.status === undefined
      ? undefined
      : ACTION_STATUS_NAMES.filter((status) => draftApprovalStatus(status) === filter.status);
  if (statuses?.length === 0) return [];
  const rows = await listActions(deps.db, workspaceId, {
    recordId: filter.recordId,
    agentId: filter.agentId,
    statuses,
    heldOnly: true,
    limit: filter.limit,
  });
  const outcomes = await listOutcomes(
    deps.db,
    workspaceId,
    rows.map((row) => row.id),
  );
  return rows.map((row) => draftApprovalView(row, outcomes.get(row.id) ?? []));
}
