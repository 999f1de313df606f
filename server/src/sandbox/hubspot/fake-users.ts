/** A user as the Settings API (user provisioning) knows them: the teams they are in. */
export interface FakeUser {
  primaryTeamId?: string;
  secondaryTeamIds: string[];
}

/** Two teams, with the owners' users in them, so the demo can give roles by team. */
export const DEFAULT_TEAMS: ReadonlyMap<string, string> = new Map([
  ['7001', 'Sales'],
  ['7002', 'RevOps'],
]);
export const DEFAULT_USERS: ReadonlyMap<string, FakeUser> = new Map([
  ['1001', { primaryTeamId: '7001', secondaryTeamIds: [] }],
  ['1002', { primaryTeamId: '7001', secondaryTeamIds: [] }],
  ['1003', { primaryTeamId: '7002', secondaryTeamIds: ['7001'] }],
]);
