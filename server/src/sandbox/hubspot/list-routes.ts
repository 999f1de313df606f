import type { CustomRoute } from './custom-objects.ts';
import { errorResponse, iso, json, readQuery, type HubSpotResponse } from './responses.ts';
import type { HubSpotState } from './state.ts';

/**
 * GET /crm/v3/lists/{listId}/memberships: a list's member record ids, paged by `after` (an
 * offset here; HubSpot's cursor is opaque) up to `limit` (at most 250), as HubSpot answers it.
 */
function listMemberships(
  state: HubSpotState,
  listId: string,
  after: string | undefined,
  limit: string | undefined,
): HubSpotResponse {
  const members = state.lists.get(listId);
  if (members === undefined) return errorResponse(404, 'OBJECT_NOT_FOUND', `No list with id ${listId} exists.`);
  const start = Number(after ?? 0) || 0;
  const size = Math.min(Math.max(Number(limit ?? 100) || 100, 1), 250);
  const page = [...members].slice(start, start + size);
  const more = start + size < members.size;
  return json(200, {
    results: page.map((recordId) => ({ recordId, membershipTimestamp: iso(state.now()) })),
    total: members.size,
    ...(more ? { paging: { next: { after: String(start + size) } } } : {}),
  });
}

export const LIST_ROUTES: CustomRoute[] = [
  {
    method: 'GET',
    template: '/crm/v3/lists/{listId}/memberships',
    pattern: /^\/crm\/v3\/lists\/([^/]+)\/memberships$/,
    handle: (s, request, [listId = '']) =>
      listMemberships(s, listId, readQuery(request, 'after'), readQuery(request, 'limit')),
  },
];
