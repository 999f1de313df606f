import type { Client } from '@hubspot/api-client';
import { AppError } from '../../errors.ts';
import type { CrmPort } from '../port.ts';
import { ownersSchema, parseResponse, settingsTeamsSchema, settingsUserSchema } from './responses.ts';
import type { Paced } from './pacing.ts';
import { withRetry, type RetryDeps } from './retry.ts';

export interface UserApis {
  getUser(userId: string): Promise<unknown>;
  getTeams(): Promise<unknown>;
  getOwners: Client['crm']['owners']['ownersApi']['getPage'];
}

export function userApis(client: Client, paced: Paced): UserApis {
  const users = client.settings.users.usersApi;
  const teams = client.settings.users.teamsApi;
  const owners = client.crm.owners.ownersApi;
  return {
    getUser: paced((userId: string) => users.getById(userId, 'USER_ID')),
    getTeams: paced(() => teams.getAll()),
    getOwners: paced(owners.getPage.bind(owners)),
  };
}

/** How long a user's teams are trusted: a person moved to another team in HubSpot gets its role within this. */
export const TEAM_CACHE_MS = 60_000;

/**
 * HubSpot's Settings API (user provisioning; scopes settings.users.read and
 * settings.users.teams.read): which teams a user is in decides their role when they have none
 * of their own (issue 8). The HubSpot app asks on a person's requests, so answers are cached per
 * user for TEAM_CACHE_MS; the adapter is one per workspace, so the cache is per workspace and user.
 * Owners are another list of the same people: a record's owner id names one of them.
 */
export function userMethods(
  apis: UserApis,
  retry: RetryDeps,
  now: () => number,
): Pick<CrmPort, 'findTeamIdsOfUser' | 'listTeams' | 'findOwnerIdOfUser'> {
  const cache = new Map<string, { at: number; teamIds: Promise<string[]> }>();

  async function fetchTeamIds(userId: string): Promise<string[]> {
    try {
      const user = parseResponse(
        settingsUserSchema,
        await withRetry(`read HubSpot user ${userId}`, () => apis.getUser(userId), retry),
        'GET settings/v3/users/{userId}',
      );
      return [...new Set([...(user.primaryTeamId ? [user.primaryTeamId] : []), ...(user.secondaryTeamIds ?? [])])];
    } catch (error) {
      // A user the account does not have (removed, or another account's) is in no team.
      if (
        error instanceof AppError &&
        error.code === 'CRM_REJECTED' &&
        (error.details as { status?: number } | undefined)?.status === 404
      )
        return [];
      throw error;
    }
  }

  return {
    findTeamIdsOfUser(userId) {
      const cached = cache.get(userId);
      if (cached !== undefined && now() - cached.at < TEAM_CACHE_MS) return cached.teamIds;
      // Concurrent requests of one person share one call; a failed call is not remembered.
      const teamIds = fetchTeamIds(userId);
      cache.set(userId, { at: now(), teamIds });
      teamIds.catch(() => cache.delete(userId));
      return teamIds;
    },
    async listTeams() {
      const answer = await withRetry('read the HubSpot teams', () => apis.getTeams(), retry);
      return parseResponse(settingsTeamsSchema, answer, 'GET settings/v3/users/teams').results.map((team) => ({
        id: team.id,
        name: team.name,
      }));
    },
    async findOwnerIdOfUser(userId) {
      let after: string | undefined;
      do {
        const answer = await withRetry('read the owners', () => apis.getOwners(undefined, after, 100), retry);
        const page = parseResponse(ownersSchema, answer, 'GET owners');
        const owner = page.results.find(
          (candidate) => candidate.userId !== undefined && String(candidate.userId) === userId,
        );
        if (owner) return owner.id;
        after = page.paging?.next?.after;
      } while (after !== undefined);
      return null;
    },
  };
}
