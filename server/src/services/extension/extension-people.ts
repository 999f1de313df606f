import type { PersonView, TeamRoleView } from '../../../../shared/extension-api.ts';
import type { PersonRole } from '../../domain/approval-lifecycle.ts';
import { mayAssignRole } from '../../domain/extension-access.ts';
import { AppError } from '../../errors.ts';
import { findPerson, findTeamRoles, listPeople, listTeamRoles } from '../../store/people-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { personActor, type ExtensionCaller } from './extension-caller.ts';
import { removePersonRole, removeTeamRole, setPersonRole, setTeamRole } from '../governance/index.ts';

/**
 * Roles given from the app's settings page (issue 8), by HubSpot user or team. Owners and RevOps
 * admins manage them; only an owner grants or takes away the owner role.
 */

function requireRoleChange(
  authenticated: ExtensionCaller,
  change: { before: PersonRole | undefined; after: PersonRole | undefined },
): void {
  const role = authenticated.caller.permissions.role;
  if (mayAssignRole(role, change)) return;
  const what = authenticated.caller.permissions.managePeople
    ? 'grant or take away the owner role; only an owner can'
    : 'change who has which role';
  throw new AppError('FORBIDDEN', `A ${role} cannot ${what}.`, { details: { reason: 'role_not_allowed', role } });
}

/**
 * The settings pages never take the owner role from the workspace's last holder (a person or a
 * team): only an owner grants it, so nobody there could give it back (the CLI's "people set" would).
 */
async function keepAnOwner(
  deps: ServiceDeps,
  workspaceId: string,
  leaving: { crmUserId: string } | { teamId: string },
): Promise<void> {
  const [everyone, teams] = await Promise.all([listPeople(deps.db, workspaceId), listTeamRoles(deps.db, workspaceId)]);
  const otherOwners =
    everyone.filter(
      (person) => person.role === 'owner' && !('crmUserId' in leaving && person.crmUserId === leaving.crmUserId),
    ).length +
    teams.filter((team) => team.role === 'owner' && !('teamId' in leaving && team.teamId === leaving.teamId)).length;
  if (otherOwners > 0) return;
  const who = 'crmUserId' in leaving ? `User ${leaving.crmUserId}` : `Team ${leaving.teamId}`;
  throw new AppError(
    'CONFLICT',
    `${who} holds the workspace's last owner role: give the owner role to someone else first, or nobody could grant it again.`,
    { details: { reason: 'last_owner' } },
  );
}

export async function setPersonRoleFromApp(
  deps: ServiceDeps,
  authenticated: ExtensionCaller,
  input: { crmUserId: string; role: PersonRole; crmOwnerId?: string | undefined },
): Promise<PersonView> {
  const current = await findPerson(deps.db, authenticated.workspace.id, input.crmUserId);
  requireRoleChange(authenticated, { before: current?.role, after: input.role });
  if (current?.role === 'owner' && input.role !== 'owner')
    await keepAnOwner(deps, authenticated.workspace.id, { crmUserId: input.crmUserId });
  return setPersonRole(deps, authenticated.workspace.id, input, personActor(authenticated));
}

export async function removePersonRoleFromApp(
  deps: ServiceDeps,
  authenticated: ExtensionCaller,
  crmUserId: string,
): Promise<{ removed: boolean }> {
  const current = await findPerson(deps.db, authenticated.workspace.id, crmUserId);
  requireRoleChange(authenticated, { before: current?.role, after: undefined });
  if (!current)
    throw new AppError('NOT_FOUND', `HubSpot user ${crmUserId} has no role of their own in this workspace.`);
  if (current.role === 'owner') await keepAnOwner(deps, authenticated.workspace.id, { crmUserId });
  return removePersonRole(deps, authenticated.workspace.id, crmUserId, personActor(authenticated));
}

export async function setTeamRoleFromApp(
  deps: ServiceDeps,
  authenticated: ExtensionCaller,
  input: { teamId: string; role: PersonRole },
): Promise<TeamRoleView> {
  const before = await teamRoleOf(deps, authenticated.workspace.id, input.teamId);
  requireRoleChange(authenticated, { before, after: input.role });
  if (before === 'owner' && input.role !== 'owner')
    await keepAnOwner(deps, authenticated.workspace.id, { teamId: input.teamId });
  return setTeamRole(deps, authenticated.workspace.id, input, personActor(authenticated));
}

export async function removeTeamRoleFromApp(
  deps: ServiceDeps,
  authenticated: ExtensionCaller,
  teamId: string,
): Promise<{ removed: boolean }> {
  const before = await teamRoleOf(deps, authenticated.workspace.id, teamId);
  requireRoleChange(authenticated, { before, after: undefined });
  if (!before) throw new AppError('NOT_FOUND', `HubSpot team ${teamId} has no role in this workspace.`);
  if (before === 'owner') await keepAnOwner(deps, authenticated.workspace.id, { teamId });
  return removeTeamRole(deps, authenticated.workspace.id, teamId, personActor(authenticated));
}

async function teamRoleOf(deps: ServiceDeps, workspaceId: string, teamId: string): Promise<PersonRole | undefined> {
  return (await findTeamRoles(deps.db, workspaceId, [teamId]))[0]?.role;
}
