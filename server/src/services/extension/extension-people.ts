import type { PersonView, TeamRoleView } from '../../../../shared/extension-api.ts';
import type { PersonRole } from '../../domain/approval-lifecycle.ts';
import { mayAssignRole } from '../../domain/extension-access.ts';
import { AppError } from '../../errors.ts';
import { findPerson, findTeamRoles } from '../../store/people-store.ts';
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

export async function setPersonRoleFromApp(
  deps: ServiceDeps,
  authenticated: ExtensionCaller,
  input: { crmUserId: string; role: PersonRole; crmOwnerId?: string | undefined },
): Promise<PersonView> {
  const current = await findPerson(deps.db, authenticated.workspace.id, input.crmUserId);
  requireRoleChange(authenticated, { before: current?.role, after: input.role });
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
  return removePersonRole(deps, authenticated.workspace.id, crmUserId, personActor(authenticated));
}

export async function setTeamRoleFromApp(
  deps: ServiceDeps,
  authenticated: ExtensionCaller,
  input: { teamId: string; role: PersonRole },
): Promise<TeamRoleView> {
  requireRoleChange(authenticated, {
    before: await teamRoleOf(deps, authenticated.workspace.id, input.teamId),
    after: input.role,
  });
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
  return removeTeamRole(deps, authenticated.workspace.id, teamId, personActor(authenticated));
}

async function teamRoleOf(deps: ServiceDeps, workspaceId: string, teamId: string): Promise<PersonRole | undefined> {
  return (await findTeamRoles(deps.db, workspaceId, [teamId]))[0]?.role;
}
