import type { InboxQuery, InboxView } from '../../../../shared/console-api.ts';
import { listAgents } from '../../store/agent-store.ts';
import { listActions } from '../../store/action-store.ts';
import { listApprovals } from '../../store/approval-store.ts';
import { evidenceKey, findRecordsEvidence } from '../../store/change-store.ts';
import { listKillSwitches } from '../../store/kill-switch-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { engagedKillSwitches, type ExtensionCaller, pendingCard, pendingDraftView } from '../extension/index.ts';

/**
 * What waits for a person, across the workspace: each pending field change as the record card
 * shows it (same shape, same `decidable`), newest first. Filters by agent, batch and record go
 * to the database; property and age narrow that page.
 */
export async function inboxView(
  deps: ServiceDeps,
  { workspace, caller }: ExtensionCaller,
  query: InboxQuery,
): Promise<InboxView> {
  const [pending, heldDrafts, agents, switches] = await Promise.all([
    listApprovals(deps.db, workspace.id, {
      status: 'pending',
      agentId: query.agent,
      batchId: query.batch,
      recordId: query.record,
      limit: query.limit,
    }),
    query.batch === undefined && query.property === undefined
      ? listActions(deps.db, workspace.id, {
          statuses: ['pending'],
          agentId: query.agent,
          recordId: query.record,
          limit: query.limit,
        })
      : [],
    listAgents(deps.db, workspace.id),
    listKillSwitches(deps.db, workspace.id),
  ]);
  const cutoff =
    query.olderThanMinutes === undefined ? undefined : deps.clock().getTime() - query.olderThanMinutes * 60_000;
  const shown = pending.filter(
    (stored) =>
      (query.property === undefined || stored.items.some((item) => item.property === query.property)) &&
      (cutoff === undefined || stored.createdAt.getTime() <= cutoff),
  );
  const agentById = new Map(agents.map((agent) => [agent.id, agent]));
  // One query for the page's evidence rather than one per item.
  const evidence = await findRecordsEvidence(deps.db, workspace.id, shown);
  const items = shown.map((stored) =>
    pendingCard(stored, agentById.get(stored.agentId), evidence.get(evidenceKey(stored)), caller),
  );
  const drafts = heldDrafts
    .filter((row) => cutoff === undefined || row.createdAt.getTime() <= cutoff)
    .map((row) => ({
      ...pendingDraftView(row, agentById.get(row.agentId), caller),
      objectType: row.objectType,
      recordId: row.recordId,
      createdAt: row.createdAt.toISOString(),
    }));
  return { caller, killSwitches: engagedKillSwitches(switches), items, drafts };
}
