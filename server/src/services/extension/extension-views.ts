import type {
  AuditSearchResult,
  CardQuery,
  CardView,
  Caller,
  EmailStop,
  EngagedKillSwitch,
  Evidence,
  HomeView,
  PendingApprovalCard,
  PendingRecordEntry,
  SettingsView,
} from '../../../../shared/extension-api.ts';
import { ACTION_KINDS } from '../../../../shared/crm-names.ts';
import { STOP_REASON_CODES } from '../../domain/action-drafts.ts';
import { decidableApproval, decidableBy } from '../../domain/decidable.ts';
import { engagedSwitchOf } from '../../domain/kill-switch-scope.ts';
import { findAction, findContactStops, type ContactStopRow } from '../../store/action-store.ts';
import { AppError } from '../../errors.ts';
import { listAgents, type AgentRow } from '../../store/agent-store.ts';
import type { StoredApproval } from '../../store/approval-store.ts';
import {
  appliedChangesOnRecord,
  evidenceForRecord,
  fieldProvenanceOnRecord,
  pendingApprovalsOnRecord,
  recentBatches,
  searchAuditEvents,
} from '../../store/extension-store.ts';
import { listKillSwitches } from '../../store/kill-switch-store.ts';
import { findCreationOfRecord } from '../../store/record-creation-store.ts';
import { listPolicyVersions } from '../../store/policy-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import {
  listWorkspaceAgents,
  findGovernanceRequests,
  listWorkspaceKillSwitches,
  listWorkspacePeople,
  listWorkspaceTeamRoles,
  activePolicy,
  workspaceBudgetUsage,
} from '../governance/index.ts';
import { approvalView, findHeldEntries, type HeldEntryView } from '../held/index.ts';
import type { ServiceDeps } from '../common/index.ts';
import { listRecordReviews } from '../governance/index.ts';
import { heldDraftsOnRecord, pendingDraftView } from './extension-drafts.ts';
import type { ExtensionCaller } from './extension-caller.ts';

const RECENT_CHANGES = 10;
/** Held creations and associations a card shows at most: a record rarely has more than a few. */
const HELD_ENTRIES_SHOWN = 50;

/** The record card: this record's pending approvals (one page), held drafts, the agents' last writes on it, and engaged kill switches. */
export async function cardView(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  caller: Caller,
  query: CardQuery,
): Promise<CardView> {
  const record = { workspaceId: workspace.id, objectType: query.objectType, recordId: query.recordId };
  // The record's own CRM's contacts (issue 20): a workspace may hold a portal's and an org's.
  const contacts = query.objectType === deps.crmFor(workspace).forObject(query.objectType).contactObjectType;
  const [page, applied, agents, switches, drafts, creation, provenance, stops, reviews, entries] = await Promise.all([
    pendingApprovalsOnRecord(deps.db, record, { offset: (query.page - 1) * query.pageSize, limit: query.pageSize }),
    appliedChangesOnRecord(deps.db, record, RECENT_CHANGES),
    listAgents(deps.db, workspace.id),
    listKillSwitches(deps.db, workspace.id),
    heldDraftsOnRecord(deps.db, record),
    findCreationOfRecord(deps.db, record),
    fieldProvenanceOnRecord(deps.db, record),
    contacts ? findContactStops(deps.db, workspace.id, query.recordId) : [],
    listRecordReviews(deps, workspace.id, { objectType: query.objectType, recordIds: [query.recordId] }),
    findHeldEntries(deps, workspace.id, {
      recordIds: [query.recordId],
      objectType: query.objectType,
      status: 'pending',
      limit: HELD_ENTRIES_SHOWN,
    }),
  ]);
  const evidence = await evidenceForRecord(deps.db, workspace.id, query.recordId, [
    ...new Set(page.approvals.map((approval) => approval.changeSetId)),
  ]);
  const agentById = new Map(agents.map((agent) => [agent.id, agent]));
  return {
    record: { objectType: query.objectType, recordId: query.recordId },
    caller,
    killSwitches: engagedKillSwitches(switches),
    review: reviews[0]
      ? {
          reason: reviews[0].reason,
          markedAt: reviews[0].markedAt,
          agentName: agentById.get(reviews[0].agentId)?.name ?? 'unknown agent',
        }
      : null,
    pending: {
      items: page.approvals.map((stored) =>
        pendingCard(stored, agentById.get(stored.agentId), evidence.get(stored.changeSetId), caller),
      ),
      page: query.page,
      pageSize: query.pageSize,
      total: page.total,
    },
    drafts: drafts.map((row) => pendingDraftView(row, agentById.get(row.agentId), caller)),
    heldEntries: entries.map((entry) => pendingEntryCard(entry, agentById.get(entry.agentId), caller)),
    recentChanges: applied.map((row) => ({
      changeId: row.changeId,
      changeSetId: row.changeSetId,
      batchId: row.batchId,
      agent: { id: row.agentId, name: agentById.get(row.agentId)?.name ?? 'unknown agent' },
      property: row.property,
      before: row.before,
      after: row.after,
      at: row.at.toISOString(),
    })),
    createdBy: creation
      ? {
          changeId: creation.id,
          changeSetId: creation.changeSetId,
          batchId: creation.batchId,
          agent: { id: creation.agentId, name: agentById.get(creation.agentId)?.name ?? 'unknown agent' },
          at: creation.createdAt.toISOString(),
          evidence: asEvidence(creation.evidence),
          policyVersion: creation.policyVersion,
        }
      : null,
    fieldProvenance: provenance.map((row) => ({
      property: row.property,
      value: row.value,
      changeId: row.change_id,
      changeSetId: row.change_set_id,
      batchId: row.batch_id,
      agent: { id: row.agent_id, name: agentById.get(row.agent_id)?.name ?? 'unknown agent' },
      at: new Date(row.created_at).toISOString(),
      evidence: asEvidence(row.evidence),
      policyVersion: row.policy_version,
      approvedBy: row.approved_by ?? [],
    })),
    ...(contacts ? { emailStops: await emailStopsOf(deps, workspace.id, stops, agentById) } : {}),
  };
}

/** Each stop with the agent whose email's outcome reported it (read from the email, which may be any agent's). */
async function emailStopsOf(
  deps: ServiceDeps,
  workspaceId: string,
  stops: ContactStopRow[],
  agentById: Map<string, { id: string; name: string }>,
): Promise<EmailStop[]> {
  return Promise.all(
    stops.map(async (stop) => {
      const email = await findAction(deps.db, workspaceId, stop.actionId);
      const agent = email ? agentById.get(email.agentId) : undefined;
      return {
        reason: STOP_REASON_CODES[stop.reason],
        at: stop.createdAt.toISOString(),
        actionId: stop.actionId,
        agent: agent ? { id: agent.id, name: agent.name } : null,
      };
    }),
  );
}

/**
 * The kill switches engaged now that pause people's approving, as the card and the console's
 * inbox show them: the workspace's, an agent's, an action kind's. A scoped switch (issue 21)
 * stops agents' own writes and drafts, not what a person approves, so it is not shown here.
 */
export function engagedKillSwitches(rows: Awaited<ReturnType<typeof listKillSwitches>>): EngagedKillSwitch[] {
  // A stored switch this server does not understand reads as the workspace's, its reason saying which row.
  return rows
    .filter((row) => row.engaged)
    .map(engagedSwitchOf)
    .filter((engaged) => engaged.scope === 'workspace' || engaged.scope === 'agent' || engaged.scope === 'action')
    .map((engaged) => ({
      scope: engaged.scope,
      target: engaged.target || null,
      reason: engaged.reason,
      changedAt: engaged.changedAt.toISOString(),
    }));
}

export function pendingCard(
  stored: StoredApproval,
  agent: AgentRow | undefined,
  evidence: unknown,
  caller: Caller,
): PendingApprovalCard {
  return {
    approval: approvalView(stored),
    agent: { id: stored.agentId, name: agent?.name ?? 'unknown agent', role: agent?.role ?? null },
    evidence: asEvidence(evidence),
    decidable: decidableApproval(caller, stored),
  };
}

/** A held creation or association as the card and the inbox show it: it has no record owner, so a rep never decides it. */
export function pendingEntryCard(
  entry: HeldEntryView,
  agent: AgentRow | undefined,
  caller: Caller,
): PendingRecordEntry {
  return {
    approval: entry,
    agent: { id: entry.agentId, name: agent?.name ?? 'unknown agent' },
    decidable: decidableBy(caller, {
      recordOwnerId: null,
      delegatedUserId: entry.delegatedUserId,
      approvedBy: entry.approvedBy,
    }),
  };
}

/** Evidence is stored as the agent sent it (validated then); only the fields the card shows are passed on. */
function asEvidence(value: unknown): Evidence | null {
  if (!value || typeof value !== 'object') return null;
  const raw = value as Record<string, unknown>;
  return {
    ...(typeof raw.source === 'string' ? { source: raw.source } : {}),
    ...(typeof raw.url === 'string' ? { url: raw.url } : {}),
    ...(typeof raw.confidence === 'number' ? { confidence: raw.confidence } : {}),
    ...(typeof raw.reason === 'string' ? { reason: raw.reason } : {}),
  };
}

export function requirePermission(caller: Caller, allowed: boolean, what: string): void {
  if (!allowed)
    throw new AppError('FORBIDDEN', `A ${caller.permissions.role} cannot ${what}.`, {
      details: { reason: 'role_not_allowed', role: caller.permissions.role },
    });
}

/** The settings page: the policy in force, its history, kill switches, agents, who has which role, and what waits for a second admin. */
export async function settingsView(
  deps: ServiceDeps,
  { workspace, caller, person }: ExtensionCaller,
): Promise<SettingsView> {
  requirePermission(caller, caller.permissions.readSettings, 'read the governance settings');
  const [history, killSwitches, agents, people, teamRoles, requests, reviews] = await Promise.all([
    listPolicyVersions(deps.db, workspace.id),
    listWorkspaceKillSwitches(deps, workspace.id),
    listWorkspaceAgents(deps, workspace.id),
    listWorkspacePeople(deps, workspace.id),
    listWorkspaceTeamRoles(deps, workspace.id),
    findGovernanceRequests(deps, workspace.id, 'pending'),
    listRecordReviews(deps, workspace.id),
  ]);
  const active = history.length > 0 ? await activePolicy(deps.db, workspace.id) : null;
  return {
    caller,
    access: { source: person.source, people, teamRoles },
    governanceRequests: requests.map((request) => ({
      id: request.id,
      kind: request.kind,
      reasons: request.reasons,
      requestedBy: request.requestedBy,
      requestedAt: request.requestedAt,
    })),
    policy: active,
    history: history.map((row) => ({
      version: row.version,
      publishedBy: row.publishedBy,
      createdAt: row.createdAt.toISOString(),
    })),
    killSwitches,
    agents,
    actionKinds: ACTION_KINDS,
    ...(active ? { budgetUsage: await workspaceBudgetUsage(deps, workspace.id, active.policy) } : {}),
    reviews,
  };
}

export async function homeView(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  caller: Caller,
  /** The console pages batches by keyset: the last batch of the page before. */
  page: { limit: number; before?: { lastAt: Date; batchId: string } | undefined } = { limit: 50 },
): Promise<HomeView> {
  requirePermission(caller, caller.permissions.searchAudit, 'see batches and the audit trail');
  const [batches, agents] = await Promise.all([
    recentBatches(deps.db, workspace.id, page.limit, page.before),
    listAgents(deps.db, workspace.id),
  ]);
  const nameOf = new Map(agents.map((agent) => [agent.id, agent.name]));
  return {
    caller,
    batches: batches.map((row) => ({
      batchId: row.batchId,
      changeSets: row.changeSets,
      agents: row.agentIds.map((id) => nameOf.get(id) ?? id),
      pendingApprovals: row.pendingApprovals,
      lastAt: (row.lastAt ?? new Date(0)).toISOString(),
    })),
  };
}

export async function auditSearch(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  caller: Caller,
  filter: { batchId?: string | undefined; recordId?: string | undefined; agentId?: string | undefined; limit: number },
): Promise<AuditSearchResult> {
  requirePermission(caller, caller.permissions.searchAudit, 'search the audit trail');
  const rows = await searchAuditEvents(deps.db, workspace.id, filter);
  return { events: rows.map((row) => ({ ...row, occurredAt: row.occurredAt.toISOString() })) };
}
