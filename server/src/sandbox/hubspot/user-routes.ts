import type { CustomRoute } from './custom-objects.ts';
import { errorResponse, json, type HubSpotResponse } from './responses.ts';
import type { HubSpotState } from './state.ts';

/** GET /settings/v3/users/{userId}, in the documented shape (id, email, roleId, teams, superAdmin). */
function getUser(state: HubSpotState, userId: string): HubSpotResponse {
  const user = state.users.get(userId);
  if (user === undefined)
    return errorResponse(404, 'OBJECT_NOT_FOUND', `No user with id ${userId} exists in this account.`);
  return json(200, {
    id: userId,
    email: `user${userId}@example.com`,
    ...(user.primaryTeamId === undefined ? {} : { primaryTeamId: user.primaryTeamId }),
    secondaryTeamIds: user.secondaryTeamIds,
    roleIds: [],
    superAdmin: false,
  });
}

/** GET /settings/v3/users/teams: every team, each with its members, unpaged as HubSpot answers it. */
function listTeams(state: HubSpotState): HubSpotResponse {
  const members = (teamId: string, primary: boolean) =>
    [...state.users]
      .filter(([, user]) => (primary ? user.primaryTeamId === teamId : user.secondaryTeamIds.includes(teamId)))
      .map(([id]) => id);
  return json(200, {
    results: [...state.teams].map(([id, name]) => ({
      id,
      name,
      userIds: members(id, true),
      secondaryUserIds: members(id, false),
    })),
  });
}

export const USER_ROUTES: CustomRoute[] = [
  {
    method: 'GET',
    template: '/settings/v3/users/teams',
    pattern: /^\/settings\/v3\/users\/teams$/,
    handle: (s) => listTeams(s),
  },
  {
    method: 'GET',
    template: '/settings/v3/users/{userId}',
    pattern: /^\/settings\/v3\/users\/([^/]+)$/,
    handle: (s, _r, [userId = '']) => getUser(s, userId),
  },
];
