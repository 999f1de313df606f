import { createHash } from 'node:crypto';
import { BATCH_DECISION_MAX, type BatchDecisionResult } from '../../../../shared/approval-api.ts';
import type { Caller } from '../../../../shared/extension-api.ts';
import type { BulkDecision, BulkPreview, BulkSelection } from '../../../../shared/extension-decisions-api.ts';
import { decidableBy } from '../../domain/decidable.ts';
import { AppError } from '../../errors.ts';
import { pendingDraftsOnRecords } from '../../store/action-store.ts';
import { pendingApprovalsOnRecords } from '../../store/extension-store.ts';
import { listKillSwitches } from '../../store/kill-switch-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { decideBatch } from '../change-sets/index.ts';
import { findHeldEntries } from '../held/index.ts';
import type { ServiceDeps } from '../common/index.ts';
import type { ExtensionCaller } from './extension-caller.ts';
import { engagedKillSwitches, requirePermission } from './extension-views.ts';

/**
 * The bulk action on an index page (issue 8): what the selected records have waiting (held
 * field changes, drafts, and the held links from or to them and held creations likely
 * duplicating them, as each record's card lists them), then one person's
 * decision on all of it through the batch decision, so each is still decided by its own rules
 * (a rep's on records they do not own are refused one by one) and one `approval.batch_decided`
 * event keeps the manifest.
 */
export async function previewBulkDecision(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  caller: Caller,
  selection: BulkSelection,
): Promise<BulkPreview> {
  const [pending, switches] = await Promise.all([
    pendingOf(deps, workspace, selection),
    listKillSwitches(deps.db, workspace.id),
  ]);
  const shown = pending.slice(0, BATCH_DECISION_MAX);
  return {
    caller,
    objectType: selection.objectType,
    selectedRecords: selection.recordIds.length,
    recordsWithPending: new Set(shown.map((held) => held.recordId)).size,
    pending: shown.length,
    drafts: shown.filter((held) => held.kind === 'draft').length,
    heldEntries: shown.filter((held) => held.kind === 'creation' || held.kind === 'association').length,
    overLimit: pending.length > BATCH_DECISION_MAX,
    decidable: shown.filter((held) => decidableBy(caller, held).ok).length,
    killSwitches: engagedKillSwitches(switches),
    seen: seenDigest(shown),
  };
}

/** Which pending items a person was shown, in a few characters: the same set gives the same digest. */
function seenDigest(pending: readonly PendingOnRecord[]): string {
  const ids = pending.map((held) => held.id).sort();
  return createHash('sha256').update(ids.join(',')).digest('base64url').slice(0, 32);
}

/**
 * Decides everything pending on the selected records when the call arrives, provided it is what
 * the person was shown (`seen`): a proposal held since would otherwise be approved unseen.
 */
export async function decideSelectedRecords(
  deps: ServiceDeps,
  { workspace, caller, person }: ExtensionCaller,
  decision: BulkDecision,
): Promise<BatchDecisionResult> {
  requirePermission(caller, caller.permissions.decide !== 'none', 'decide agent proposals');
  const { selection } = decision;
  const pending = await pendingOf(deps, workspace, selection);
  if (pending.length === 0)
    throw new AppError(
      'CONFLICT',
      `No agent proposal waits on the ${selection.recordIds.length} selected ${selection.objectType}.`,
    );
  if (pending.length > BATCH_DECISION_MAX) {
    throw new AppError(
      'CONFLICT',
      `More than ${BATCH_DECISION_MAX} agent proposals wait on the selected ${selection.objectType}; select fewer records and decide them in parts.`,
      { details: { limit: BATCH_DECISION_MAX } },
    );
  }
  if (decision.seen !== undefined && decision.seen !== seenDigest(pending.slice(0, BATCH_DECISION_MAX)))
    throw new AppError(
      'CONFLICT',
      `What waits on the selected ${selection.objectType} changed since you looked (${pending.length} proposals now); look again before deciding.`,
      { details: { reason: 'pending_changed', pending: pending.length } },
    );
  const note = `Bulk action on the ${selection.objectType} index page: every proposal pending on ${selection.recordIds.length} selected records.`;
  const approvalIds = pending.map((held) => held.id);
  const request =
    decision.kind === 'approve'
      ? { kind: 'approve' as const, actingUserId: caller.userId, approvalIds, note }
      : { kind: 'reject' as const, actingUserId: caller.userId, approvalIds, reason: decision.reason, note };
  return decideBatch(deps, { workspace, request, via: 'hubspot_app', person });
}

/** What waits for a person on one record: a held field change, draft, link or creation, and what decides who may decide it. */
interface PendingOnRecord {
  id: string;
  kind: 'field_change' | 'draft' | 'creation' | 'association';
  recordId: string;
  createdAt: Date;
  recordOwnerId: string | null;
  delegatedUserId: string | null;
  /** For a field change, whoever approved any of its properties. */
  approvedBy: readonly string[];
}

/** Oldest first, and one more than the limit, so going over it is seen without counting everything. */
async function pendingOf(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  selection: BulkSelection,
): Promise<PendingOnRecord[]> {
  const scope = { workspaceId: workspace.id, objectType: selection.objectType, recordIds: selection.recordIds };
  const [approvals, drafts, entries] = await Promise.all([
    pendingApprovalsOnRecords(deps.db, scope, BATCH_DECISION_MAX + 1),
    pendingDraftsOnRecords(deps.db, scope, BATCH_DECISION_MAX + 1),
    findHeldEntries(deps, workspace.id, {
      recordIds: selection.recordIds,
      objectType: selection.objectType,
      status: 'pending',
      limit: BATCH_DECISION_MAX + 1,
    }),
  ]);
  const selected = new Set(selection.recordIds);
  const held: PendingOnRecord[] = [
    ...approvals.map((stored) => ({
      ...stored,
      kind: 'field_change' as const,
      approvedBy: stored.items.flatMap((item) => item.approvedBy),
    })),
    ...drafts.map((row) => ({ ...row, kind: 'draft' as const })),
    // A held entry has no owner (a rep never decides one); it counts on the selected record it is about.
    ...entries.map((entry) => ({
      id: entry.id,
      kind: entry.kind,
      // A pending creation has no record yet: it is listed for the selected record it likely duplicates.
      recordId:
        entry.kind === 'creation'
          ? (entry.duplicateOf ?? '')
          : selected.has(entry.recordId)
            ? entry.recordId
            : entry.toRecordId,
      createdAt: new Date(entry.createdAt),
      recordOwnerId: null,
      delegatedUserId: entry.delegatedUserId,
      approvedBy: entry.approvedBy,
    })),
  ];
  return held
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
    .slice(0, BATCH_DECISION_MAX + 1);
}
