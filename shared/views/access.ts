import type { HubSpotTeam, PendingGovernanceRequest, PersonRoleName, RoleSource } from '../extension-api.ts';

/** The settings page's people and teams (issue 8), and the changes waiting for a second admin. */

export const PERSON_ROLE_OPTIONS = [
  'owner',
  'revops_admin',
  'approver',
  'rep',
  'auditor',
] as const satisfies readonly PersonRoleName[];

/** Roles this person may hand out: only an owner grants the owner role (the server enforces the same). */
export function assignableRoles(callerRole: PersonRoleName): PersonRoleName[] {
  return PERSON_ROLE_OPTIONS.filter((role) => role !== 'owner' || callerRole === 'owner');
}

/** Whether this person may change or remove an assignment that currently gives `role`. */
export function mayChangeAssignment(callerRole: PersonRoleName, role: PersonRoleName): boolean {
  return role !== 'owner' || callerRole === 'owner';
}

export function teamName(teams: readonly HubSpotTeam[] | null, teamId: string): string {
  const team = teams?.find((candidate) => candidate.id === teamId);
  return team ? `${team.name} (${teamId})` : `team ${teamId}`;
}

export function roleSourceText(role: PersonRoleName, source: RoleSource, teams: readonly HubSpotTeam[] | null): string {
  return source.kind === 'user'
    ? `You are ${role}, given to you by name.`
    : `You are ${role} through your HubSpot team ${teamName(teams, source.teamId)}.`;
}

/** The person who asked for a change never confirms it; the server refuses it too (same_person). */
export function isOwnRequest(request: PendingGovernanceRequest, userId: string): boolean {
  return request.requestedBy === `person:${userId}`;
}

export function requestSummary(request: PendingGovernanceRequest): string {
  const what = request.kind === 'policy_publish' ? 'Publish a new policy version' : 'Release the workspace kill switch';
  return `${what}, asked by ${request.requestedBy} at ${request.requestedAt}: ${request.reasons.map((reason) => reason.message).join(' ')}`;
}
