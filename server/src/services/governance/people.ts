import type { PersonView, RoleSource, TeamRoleView } from '../../../../shared/extension-api.ts';
import type { PersonRole } from '../../domain/approval-lifecycle.ts';
import { effectiveRole } from '../../domain/extension-access.ts';
import {
  deletePerson,
  deleteTeamRole,
  findPerson,
  listPeople,
  listTeamRoles,
  upsertPerson,
  upsertTeamRole,
  type PersonRow,
} from '../../store/people-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { requireWorkspace } from './workspaces.ts';

export type { PersonView, TeamRoleView };

/**
 * Gives a CRM user a role for deciding approvals (or changes it); audited as `person.role_set`.
 * A rep decides on the records they own, and records name owners, not users: their owner id is
 * the one given, else looked up in the CRM. The lookup is best effort (the role still counts when
 * the CRM cannot be reached), and the answer says which owner id, if any, was kept.
 */
export async function setPersonRole(
  deps: ServiceDeps,
  workspaceId: string,
  input: { crmUserId: string; role: PersonRole; crmOwnerId?: string | undefined },
  actor: Actor,
): Promise<PersonView> {
  const crmOwnerId =
    input.crmOwnerId ??
    (input.role === 'rep'
      ? await lookUpOwnerId(deps, await requireWorkspace(deps, workspaceId), input.crmUserId)
      : null);
  const now = deps.clock();
  await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const previous = await upsertPerson(tx, {
      workspaceId,
      crmUserId: input.crmUserId,
      role: input.role,
      crmOwnerId,
      updatedAt: now,
    });
    audit.append({
      type: 'person.role_set',
      actor: actorJson(actor),
      before: previous ? { role: previous.role, crmOwnerId: previous.crmOwnerId } : null,
      after: { role: input.role, crmOwnerId },
      data: { crmUserId: input.crmUserId },
    });
  });
  return { crmUserId: input.crmUserId, role: input.role, crmOwnerId, updatedAt: now.toISOString() };
}

/** Takes away a person's own role (their teams' roles, if any, then apply); audited as `person.role_removed`. */
export async function removePersonRole(
  deps: ServiceDeps,
  workspaceId: string,
  crmUserId: string,
  actor: Actor,
): Promise<{ removed: boolean }> {
  return withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const removed = await deletePerson(tx, workspaceId, crmUserId);
    if (removed)
      audit.append({
        type: 'person.role_removed',
        actor: actorJson(actor),
        before: { role: removed.role, crmOwnerId: removed.crmOwnerId },
        after: null,
        data: { crmUserId },
      });
    return { removed: removed !== undefined };
  });
}

/** Gives everyone in a HubSpot team a role (or changes it); audited as `team.role_set`. */
export async function setTeamRole(
  deps: ServiceDeps,
  workspaceId: string,
  input: { teamId: string; role: PersonRole },
  actor: Actor,
): Promise<TeamRoleView> {
  const now = deps.clock();
  await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const previous = await upsertTeamRole(tx, { workspaceId, teamId: input.teamId, role: input.role, updatedAt: now });
    audit.append({
      type: 'team.role_set',
      actor: actorJson(actor),
      before: previous ? { role: previous.role } : null,
      after: { role: input.role },
      data: { teamId: input.teamId },
    });
  });
  return { teamId: input.teamId, role: input.role, updatedAt: now.toISOString() };
}

export async function removeTeamRole(
  deps: ServiceDeps,
  workspaceId: string,
  teamId: string,
  actor: Actor,
): Promise<{ removed: boolean }> {
  return withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const removed = await deleteTeamRole(tx, workspaceId, teamId);
    if (removed)
      audit.append({
        type: 'team.role_removed',
        actor: actorJson(actor),
        before: { role: removed.role },
        after: null,
        data: { teamId },
      });
    return { removed: removed !== undefined };
  });
}

/** A person as they act now: the role that counts (their own, else their strongest team's) and where it comes from. */
export interface ResolvedPerson {
  crmUserId: string;
  role: PersonRole;
  crmOwnerId: string | null;
  source: RoleSource;
}

/**
 * Who a CRM user is for governance. Their own role wins; without one, the teams HubSpot says
 * they are in (never teams a request names) give the strongest role assigned to any of them.
 * HubSpot is asked only when some team has a role, so workspaces that assign by user make no call.
 */
export async function resolvePerson(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  crmUserId: string,
): Promise<ResolvedPerson | undefined> {
  const own = await findPerson(deps.db, workspace.id, crmUserId);
  if (own) return { crmUserId, role: own.role, crmOwnerId: own.crmOwnerId, source: { kind: 'user' } };
  const assigned = await listTeamRoles(deps.db, workspace.id);
  if (assigned.length === 0) return undefined;
  const teamIds = new Set(await deps.crmFor(workspace).findTeamIdsOfUser(crmUserId));
  const chosen = effectiveRole({ own: undefined, teams: assigned.filter((row) => teamIds.has(row.teamId)) });
  if (!chosen) return undefined;
  const crmOwnerId = chosen.role === 'rep' ? await lookUpOwnerId(deps, workspace, crmUserId) : null;
  return { crmUserId, role: chosen.role, crmOwnerId, source: chosen.source };
}

async function lookUpOwnerId(deps: ServiceDeps, workspace: WorkspaceRow, crmUserId: string): Promise<string | null> {
  try {
    return await deps.crmFor(workspace).findOwnerIdOfUser(crmUserId);
  } catch {
    return null;
  }
}

export async function listWorkspacePeople(deps: ServiceDeps, workspaceId: string): Promise<PersonView[]> {
  return (await listPeople(deps.db, workspaceId)).map(personView);
}

export async function listWorkspaceTeamRoles(deps: ServiceDeps, workspaceId: string): Promise<TeamRoleView[]> {
  return (await listTeamRoles(deps.db, workspaceId)).map((row) => ({
    teamId: row.teamId,
    role: row.role,
    updatedAt: row.updatedAt.toISOString(),
  }));
}

function personView(row: PersonRow): PersonView {
  return {
    crmUserId: row.crmUserId,
    role: row.role,
    crmOwnerId: row.crmOwnerId,
    updatedAt: row.updatedAt.toISOString(),
  };
}
