import { CONSOLE_REQUEST_HEADER } from '../../shared/console-api.ts';

/** A refusal as the server words it: the machine code, its sentence and its details (a regression set's failures). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(method === 'GET' ? {} : { [CONSOLE_REQUEST_HEADER]: '1' }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    // The browser's own words ("Failed to fetch") tell a person nothing.
    throw new ApiError(0, 'UNREACHABLE', 'Agent Governance could not be reached. Try again in a moment.');
  }
  if (response.status === 204) return undefined as T;
  const json = (await response.json().catch(() => ({}))) as {
    error?: { code?: string; message?: string; details?: unknown };
  };
  if (!response.ok)
    throw new ApiError(
      response.status,
      json.error?.code ?? 'INTERNAL',
      // A proxy's page or an empty answer: say what came back, as the HubSpot card does.
      json.error?.message ?? `Agent Governance answered ${response.status}. Try again in a moment.`,
      json.error?.details,
    );
  return json as T;
}

export const getJson = <T>(path: string) => call<T>('GET', path);
export const postJson = <T>(path: string, body?: unknown) => call<T>('POST', path, body);
export const putJson = <T>(path: string, body?: unknown) => call<T>('PUT', path, body);
export const deleteJson = <T>(path: string) => call<T>('DELETE', path);

/** A query string from the filters that are set. */
export function query(params: Record<string, string | undefined>): string {
  const set = Object.entries(params).filter((entry): entry is [string, string] => Boolean(entry[1]));
  return set.length === 0 ? '' : `?${new URLSearchParams(set).toString()}`;
}
