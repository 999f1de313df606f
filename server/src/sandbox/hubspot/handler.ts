import { setTimeout as delay } from 'node:timers/promises';
import { ACCOUNT_ROUTES } from './account-routes.ts';
import { ASSOCIATION_ROUTES } from './association-routes.ts';
import { CUSTOM_OBJECT_ROUTES } from './custom-objects.ts';
import { engagementRoute } from './engagement-routes.ts';
import { batchArchive, batchCreate, batchRead, batchUpdate, getOne } from './object-routes.ts';
import { search } from './search-route.ts';
import { batchCreateProperties, createGroup, createProperty, listGroups, listProperties } from './property-routes.ts';
import { AUTH_MESSAGE, errorResponse, readHeader, type HubSpotRequest, type HubSpotResponse } from './responses.ts';
import type { FakeObjectType, HubSpotState } from './state.ts';
import { LIST_ROUTES } from './list-routes.ts';
import { USER_ROUTES } from './user-routes.ts';

/**
 * Answers one request the way HubSpot would, against the in-memory state. Framework-free so
 * msw (tests), node:http (benchmarks, the local sandbox) and direct calls share it.
 * Order mirrors HubSpot's edge: scripted infrastructure faults, then auth, then the rate
 * limit, then the route.
 */
export async function handleHubSpotRequest(state: HubSpotState, request: HubSpotRequest): Promise<HubSpotResponse> {
  const method = request.method.toUpperCase();
  const match = matchRoute(method, request.path);
  const response = await answer(state, request, match);
  state.calls.record({
    method,
    path: request.path,
    route: `${method} ${match?.template ?? request.path}`,
    status: response.status,
    at: state.now(),
  });
  return response;
}

/**
 * Latency is how long HubSpot takes to answer, its own work included: the fake does its work
 * on arrival and answers once the latency has passed since, so its JavaScript does not add to it.
 */
async function answer(
  state: HubSpotState,
  request: HubSpotRequest,
  match: RouteMatch | undefined,
): Promise<HubSpotResponse> {
  // Awaited only when held: an unheld call does its work on arrival, in the same tick.
  const held = state.faults.waitWhileHeld(`${request.method.toUpperCase()} ${match?.template ?? request.path}`);
  if (held) await held;
  const answerAt = performance.now() + state.faults.latencyMs;
  const response = respondNow(state, request, match);
  // A timer may fire up to a millisecond early on the monotonic clock, so wait again until it has passed.
  for (let wait = answerAt - performance.now(); wait > 0; wait = answerAt - performance.now()) await delay(wait);
  return response;
}

function respondNow(state: HubSpotState, request: HubSpotRequest, match: RouteMatch | undefined): HubSpotResponse {
  const scripted = state.faults.takeScriptedFailure(
    `${request.method.toUpperCase()} ${match?.template ?? request.path}`,
  );
  if (scripted !== undefined) return scripted;

  if (readHeader(request, 'authorization') !== `Bearer ${state.accessToken}`) {
    return errorResponse(401, 'INVALID_AUTHENTICATION', AUTH_MESSAGE);
  }
  const admission = state.faults.admit(state.now());
  if (admission.refused !== undefined) return admission.refused;

  const response = route(state, request, match);
  return { ...response, headers: { ...admission.headers, ...response.headers } };
}

interface RouteMatch {
  template: string;
  handle: (
    state: HubSpotState,
    objectType: FakeObjectType,
    request: HubSpotRequest,
    id: string | undefined,
  ) => HubSpotResponse;
  rawType: string;
  id: string | undefined;
}

interface RouteDefinition {
  method: string;
  template: string;
  pattern: RegExp;
  handle: RouteMatch['handle'];
}

const ROUTES: RouteDefinition[] = [
  {
    method: 'POST',
    template: '/crm/v3/objects/{type}/batch/read',
    pattern: /^\/crm\/v3\/objects\/([^/]+)\/batch\/read$/,
    handle: (s, t, r) => batchRead(s, t, r.body),
  },
  {
    method: 'POST',
    template: '/crm/v3/objects/{type}/batch/update',
    pattern: /^\/crm\/v3\/objects\/([^/]+)\/batch\/update$/,
    handle: (s, t, r) => batchUpdate(s, t, r.body),
  },
  {
    method: 'POST',
    template: '/crm/v3/objects/{type}/batch/create',
    pattern: /^\/crm\/v3\/objects\/([^/]+)\/batch\/create$/,
    handle: (s, t, r) => batchCreate(s, t, r.body),
  },
  {
    method: 'POST',
    template: '/crm/v3/objects/{type}/batch/archive',
    pattern: /^\/crm\/v3\/objects\/([^/]+)\/batch\/archive$/,
    handle: (s, t, r) => batchArchive(s, t, r.body),
  },
  {
    method: 'POST',
    template: '/crm/v3/objects/{type}/search',
    pattern: /^\/crm\/v3\/objects\/([^/]+)\/search$/,
    handle: (s, t, r) => search(s, t, r.body),
  },
  {
    method: 'GET',
    template: '/crm/v3/objects/{type}/{id}',
    pattern: /^\/crm\/v3\/objects\/([^/]+)\/([^/]+)$/,
    handle: (s, t, r, id) => getOne(s, t, id ?? '', r),
  },
  {
    method: 'GET',
    template: '/crm/v3/properties/{type}/groups',
    pattern: /^\/crm\/v3\/properties\/([^/]+)\/groups$/,
    handle: (s, t) => listGroups(s, t),
  },
  {
    method: 'POST',
    template: '/crm/v3/properties/{type}/groups',
    pattern: /^\/crm\/v3\/properties\/([^/]+)\/groups$/,
    handle: (s, t, r) => createGroup(s, t, r.body),
  },
  {
    method: 'POST',
    template: '/crm/v3/properties/{type}/batch/create',
    pattern: /^\/crm\/v3\/properties\/([^/]+)\/batch\/create$/,
    handle: (s, t, r) => batchCreateProperties(s, t, r.body),
  },
  {
    method: 'GET',
    template: '/crm/v3/properties/{type}',
    pattern: /^\/crm\/v3\/properties\/([^/]+)$/,
    handle: (s, t) => listProperties(s, t),
  },
  {
    method: 'POST',
    template: '/crm/v3/properties/{type}',
    pattern: /^\/crm\/v3\/properties\/([^/]+)$/,
    handle: (s, t, r) => createProperty(s, t, r.body),
  },
];

function matchRoute(method: string, path: string): RouteMatch | undefined {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  for (const custom of [
    ...CUSTOM_OBJECT_ROUTES,
    ...ASSOCIATION_ROUTES,
    ...USER_ROUTES,
    ...ACCOUNT_ROUTES,
    ...LIST_ROUTES,
  ]) {
    const found = custom.method === method ? custom.pattern.exec(trimmed) : null;
    if (found === null) continue;
    const params = found.slice(1).map((param) => decodeURIComponent(param ?? ''));
    return {
      template: custom.template,
      handle: (state, _type, request) => custom.handle(state, request, params),
      rawType: 'contacts',
      id: undefined,
    };
  }
  for (const definition of ROUTES) {
    if (definition.method !== method) continue;
    const found = definition.pattern.exec(trimmed);
    if (found === null) continue;
    return {
      template: definition.template,
      handle: definition.handle,
      rawType: decodeURIComponent(found[1] ?? ''),
      id: found[2] === undefined ? undefined : decodeURIComponent(found[2]),
    };
  }
  return undefined;
}

function route(state: HubSpotState, request: HubSpotRequest, match: RouteMatch | undefined): HubSpotResponse {
  if (match === undefined)
    return (
      engagementRoute(state, request) ??
      errorResponse(404, 'OBJECT_NOT_FOUND', `No route matches ${request.method.toUpperCase()} ${request.path}`)
    );
  const objectType = OBJECT_TYPE_ALIASES.get(match.rawType);
  if (objectType === undefined)
    return errorResponse(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${match.rawType}`);
  return match.handle(state, objectType, request, match.id);
}

// HubSpot accepts the plural name, the singular and the numeric object type id.
const OBJECT_TYPE_ALIASES = new Map<string, FakeObjectType>([
  ['contacts', 'contacts'],
  ['contact', 'contacts'],
  ['0-1', 'contacts'],
  ['deals', 'deals'],
  ['deal', 'deals'],
  ['0-3', 'deals'],
]);
