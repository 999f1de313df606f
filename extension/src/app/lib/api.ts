import type { hubspot } from '@hubspot/ui-extensions';
import type { ErrorBody } from '../../../../shared/errors.ts';

/**
 * Calls to the Agent Governance backend. In HubSpot they go through `hubspot.fetch`, which
 * signs them and adds who is asking; the entry files pass that in as the `Fetcher`, so this
 * module imports no package and tests hand in their own.
 */

export interface FetchInit {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: Record<string, unknown>;
}

export type Fetcher = (path: string, init?: FetchInit) => Promise<Pick<Response, 'ok' | 'status' | 'json'>>;

/** The Fetcher for the real backend: `hubspot.fetch` (passed in by each entry file) on EXTENSION_API_URL. */
export function backendFetcher(hubspotFetch: typeof hubspot.fetch, apiUrl: string): Fetcher {
  return (path, init) =>
    hubspotFetch(`${apiUrl}${path}`, { method: init?.method ?? 'GET', ...(init?.body ? { body: init.body } : {}) });
}

/** `details` as the server sent it (POLICY_INVALID's issues, SECOND_ADMIN_REQUIRED's requestId and reasons). */
export type CallResult<T> =
  | { ok: true; data: T }
  | { ok: false; status: number; code: string; message: string; details?: unknown };

export async function callBackend<T>(fetcher: Fetcher, path: string, init?: FetchInit): Promise<CallResult<T>> {
  let response: Awaited<ReturnType<Fetcher>>;
  try {
    response = await fetcher(path, init);
  } catch {
    return {
      ok: false,
      status: 0,
      code: 'UNREACHABLE',
      message: 'Agent Governance could not be reached. Try again in a moment.',
    };
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (response.ok) return { ok: true, data: body as T };
  const error = (body as Partial<ErrorBody> | undefined)?.error;
  return {
    ok: false,
    status: response.status,
    code: error?.code ?? 'INTERNAL',
    message: error?.message ?? `Agent Governance answered ${response.status}.`,
    ...(error?.details === undefined ? {} : { details: error.details }),
  };
}

/**
 * A settings change sent by the page: on success the page says `success` and reloads, on refusal
 * it shows the server's sentence under `failedTitle`; the answer is handed back either way.
 */
export type Send = <T>(
  path: string,
  init: FetchInit,
  success: string | ((data: T) => string),
  failedTitle?: string,
) => Promise<CallResult<T>>;

/** A query string from defined values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const pairs = Object.entries(params).filter(
    (entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '',
  );
  return pairs.length === 0
    ? ''
    : `?${pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`).join('&')}`;
}

/** HubSpot's object type ids for the objects the card supports. */
export const OBJECT_TYPE_BY_ID: Record<string, 'contacts' | 'deals' | undefined> = {
  '0-1': 'contacts',
  '0-3': 'deals',
};
