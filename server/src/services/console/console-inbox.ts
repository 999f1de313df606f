import type { InboxQuery, InboxView, UnwrittenApproval } from '../../../../shared/console-api.ts';
import { listAgents } from '../../store/agent-store.ts';
import { listActions } from '../../store/action-store.ts';
import { listApprovals, listUnwrittenApprovals, type StoredApproval } from '../../store/approval-store.ts';
import { evidenceKey, findRecordsEvidence } from '../../store/change-store.ts';
import { listKillSwitches } from '../../store/kill-switch-store.ts';
import { readAuditHead } from '../../store/audit-store.ts';
import { AppError } from '../../errors.ts';
import type { ServiceDeps } from '../common/index.ts';
import { decodeCursor, encodeCursor } from './keyset.ts';
import {
  engagedKillSwitches,
  type ExtensionCaller,
  pendingCard,
  pendingDraftView,
  pendingEntryCard,
} from '../extension/index.ts';
import { findHeldEntries } from '../held/index.ts';

/**
 * What waits for a person, across the workspace: each pending field change as the record card
 * shows it (same shape, same `decidable`), newest first, a page at a time by keyset (created at,
 * id). Every filter (agent, batch, record, property, age) goes to the database. Held drafts,
 * held creations and associations, and what was approved but not written come with the first page;
 * drafts are paged there by their own keyset cursor.
 */
export async function inboxView(
  deps: ServiceDeps,
  { workspace, caller }: ExtensionCaller,
  query: InboxQuery,
): Promise<InboxView> {
  const after = keysetAfter(query.cursor);
  const draftsAfter = keysetAfter(query.draftCursor);
  const cutoff =
    query.olderThanMinutes === undefined
      ? undefined
      : new Date(deps.clock().getTime() - query.olderThanMinutes * 60_000);
  const firstPage = after === undefined;
  const [pending, heldDrafts, heldEntries, agents, switches, unwritten] = await Promise.all([
    listApprovals(deps.db, workspace.id, {
      status: 'pending',
      agentId: query.agent,
      batchId: query.batch,
      recordId: query.record,
      property: query.property,
      createdBefore: cutoff,
      after,
      // One more than the page: whether a next page exists.
      limit: query.limit + 1,
    }),
    firstPage && query.batch === undefined && query.property === undefined
      ? listActions(deps.db, workspace.id, {
          statuses: ['pending'],
          agentId: query.agent,
          recordId: query.record,
          createdBefore: cutoff,
          after: draftsAfter,
          limit: query.limit + 1,
        })
      : [],
    firstPage && query.property === undefined
      ? findHeldEntries(deps, workspace.id, {
          status: 'pending',
          agentId: query.agent,
          batchId: query.batch,
          recordIds: query.record === undefined ? undefined : [query.record],
          createdBefore: cutoff,
          limit: query.limit,
        })
      : [],
    listAgents(deps.db, workspace.id),
    listKillSwitches(deps.db, workspace.id),
    firstPage
      ? listUnwrittenApprovals(
          deps.db,
          workspace.id,
          new Date(deps.clock().getTime() - UNWRITTEN_FOR_MS),
          UNWRITTEN_SHOWN,
        )
      : [],
  ]);
  const shown = pending.slice(0, query.limit);
  const last = shown.at(-1);
  const agentById = new Map(agents.map((agent) => [agent.id, agent]));
  // One query for the page's evidence rather than one per item.
  const evidence = await findRecordsEvidence(deps.db, workspace.id, shown);
  const items = shown.map((stored) =>
    pendingCard(stored, agentById.get(stored.agentId), evidence.get(evidenceKey(stored)), caller),
  );
  const draftsShown = heldDrafts.slice(0, query.limit);
  const drafts = draftsShown.map((row) => ({
    ...pendingDraftView(row, agentById.get(row.agentId), caller),
    objectType: row.objectType,
    recordId: row.recordId,
    createdAt: row.createdAt.toISOString(),
  }));
  const next = pending.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null;
  const lastDraft = draftsShown.at(-1);
  return {
    caller,
    killSwitches: engagedKillSwitches(switches),
    items,
    drafts,
    draftsNext: heldDrafts.length > query.limit && lastDraft ? encodeCursor(lastDraft.createdAt, lastDraft.id) : null,
    heldEntries: heldEntries.map((entry) => pendingEntryCard(entry, agentById.get(entry.agentId), caller)),
    next,
    unwritten: unwritten.map((stored) => unwrittenView(stored, agentById.get(stored.agentId)?.name)),
    agents: agents.map(({ id, name }) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** How long an approval not written as meant stays on the inbox, and how many show at most. */
const UNWRITTEN_FOR_MS = 24 * 60 * 60_000;
const UNWRITTEN_SHOWN = 20;

function unwrittenView(stored: StoredApproval, agentName: string | undefined): UnwrittenApproval {
  return {
    approvalId: stored.id,
    objectType: stored.objectType,
    recordId: stored.recordId,
    batchId: stored.batchId,
    agentName: agentName ?? stored.agentId,
    // What the people approved (a stale approval writes nothing, so the domain's values-to-write are empty).
    values: Object.fromEntries(
      stored.items
        .filter((item) => item.status === 'approved')
        .map((item) => [item.property, item.edited ? item.editedValue : item.proposedValue]),
    ),
    decidedBy: stored.decidedBy,
    decidedAt: (stored.decidedAt ?? stored.createdAt).toISOString(),
    outcome: stored.status === 'stale' ? 'stale' : 'failed',
    message: stored.message,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A page's last row (created at, id) from one of this server's cursors; approvals and drafts are keyed by uuid. */
function keysetAfter(cursor: string | undefined): { createdAt: Date; id: string } | undefined {
  const after = decodeCursor(cursor);
  if (after && !UUID.test(after.key))
    throw new AppError('VALIDATION_FAILED', 'The cursor is not one this server gave: start from the first page.');
  return after && { createdAt: after.at, id: after.key };
}

/** The workspace's audit head: every change to what waits (held, decided, expired, stale) appends to the chain. */
export async function inboxVersion(deps: ServiceDeps, workspaceId: string): Promise<number> {
  return (await readAuditHead(deps.db, workspaceId)).seq;
}
