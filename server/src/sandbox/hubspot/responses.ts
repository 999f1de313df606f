import { randomUUID } from 'node:crypto';

/** A request as the fake sees it, whatever carried it (msw, node:http, a direct call). */
export interface HubSpotRequest {
  method: string;
  /** Path without the query string, e.g. `/crm/v3/objects/contacts/batch/read`. */
  path: string;
  query?: URLSearchParams | Record<string, string>;
  /** Header names in any case. */
  headers?: Record<string, string | undefined>;
  /** Parsed JSON body, if any. */
  body?: unknown;
}

export interface HubSpotResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** Set when the fault script asks for a dropped connection: wrappers must fail at the network level, not answer. */
  dropConnection?: true;
}

/** The error categories HubSpot's v3 APIs answer with. */
export type HubSpotErrorCategory =
  | 'VALIDATION_ERROR'
  | 'OBJECT_NOT_FOUND'
  | 'OBJECT_ALREADY_EXISTS'
  | 'INVALID_AUTHENTICATION'
  | 'RATE_LIMITS'
  | 'INTERNAL_ERROR';

export interface HubSpotErrorBody {
  status: 'error';
  message: string;
  correlationId: string;
  category: HubSpotErrorCategory;
  context?: Record<string, string[]>;
}

export function errorBody(
  category: HubSpotErrorCategory,
  message: string,
  context?: Record<string, string[]>,
): HubSpotErrorBody {
  return { status: 'error', message, correlationId: randomUUID(), category, ...(context ? { context } : {}) };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HubSpotResponse {
  return { status, headers: { 'content-type': 'application/json;charset=utf-8', ...headers }, body };
}

export function errorResponse(
  status: number,
  category: HubSpotErrorCategory,
  message: string,
  context?: Record<string, string[]>,
): HubSpotResponse {
  return json(status, errorBody(category, message, context));
}

/** HubSpot's wording when a token is missing, malformed or revoked. */
export const AUTH_MESSAGE =
  'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview';

export function readHeader(request: HubSpotRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(request.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

export function readQuery(request: HubSpotRequest, name: string): string | undefined {
  const query = request.query;
  if (query === undefined) return undefined;
  if (query instanceof URLSearchParams) return query.get(name) ?? undefined;
  return query[name];
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
