import { AppError } from '../../errors.ts';
import { countCrmCall } from '../call-meter.ts';

export interface RetryPolicy {
  /** Calls in all, the first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** HubSpot's rate windows are a second and ten seconds; a 429 asking for longer than this is given up on at once. */
export const LONGEST_RATE_LIMIT_WAIT_MS = 60_000;

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 20_000 };

export interface RetryDeps {
  policy: RetryPolicy;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** The adapter's memory of a 401; absent for a call that must always ask (the token check). */
  refusal?: TokenRefusal;
}

/**
 * HubSpot answered 401 (the token revoked or deleted, issue 20): every later call of the adapter
 * fails with that answer unsent, as the jobs would otherwise send it at each retry for ever. The
 * adapter lives as long as its token; a new token makes a new one.
 */
export interface TokenRefusal {
  refused: AppError | undefined;
  /** Told once, with HubSpot's category (`INVALID_AUTHENTICATION`). */
  onRefused?: (category: string) => void;
}

/** What a failed call tells us, read from the api-client's ApiException or a fetch network error. */
export type Failure =
  | {
      kind: 'rate_limited';
      status: 429;
      waitMs: number | undefined;
      policyName: string | undefined;
      correlationId: string | undefined;
    }
  | { kind: 'unavailable'; status: number | undefined; networkCode: string | undefined }
  | { kind: 'auth'; status: number; message: string; category: string | undefined; correlationId: string | undefined }
  | {
      kind: 'rejected';
      status: number;
      message: string;
      category: string | undefined;
      correlationId: string | undefined;
      /** HubSpot's `context` (such as the invalid ids of an association batch), when it gives one. */
      context?: Record<string, string[]>;
    }
  | { kind: 'unknown' };

// Transient socket-level failures worth another attempt; DNS "not found" is not one of them.
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);

/**
 * Runs `call`, retrying 429s after the wait HubSpot asks for and 5xx or network failures with
 * exponential backoff and full jitter. Ends with an AppError: CRM_RATE_LIMITED or
 * CRM_UNAVAILABLE (retryable) when attempts run out, CRM_AUTH_FAILED at once on 401/403,
 * CRM_REJECTED at once on any other 4xx (details carry HubSpot's category).
 * We do not use the api-client's own retries: they ignore the rate-limit headers and write to console.
 * `onlyRateLimits` retries 429s alone, for a call that is not safe to repeat once HubSpot may have acted.
 */
export async function withRetry<T>(
  operation: string,
  call: () => Promise<T>,
  deps: RetryDeps,
  onlyRateLimits = false,
): Promise<T> {
  const { policy, refusal } = deps;
  for (let attempt = 1; ; attempt += 1) {
    if (refusal?.refused) throw refusal.refused;
    let failure: Failure;
    await countCrmCall();
    try {
      return await call();
    } catch (error) {
      failure = classifyFailure(error);
      if (failure.kind === 'unknown') throw error;
    }
    if (failure.kind === 'auth') {
      const error = new AppError(
        'CRM_AUTH_FAILED',
        `HubSpot refused our credentials while trying to ${operation}: ${failure.message}`,
        {
          details: { status: failure.status, category: failure.category, correlationId: failure.correlationId },
        },
      );
      // A 403 is a scope the token lacks for this call alone; a 401 refuses the token itself.
      if (refusal && failure.status === 401) {
        refusal.refused = error;
        refusal.onRefused?.(failure.category ?? 'INVALID_AUTHENTICATION');
      }
      throw error;
    }
    if (failure.kind === 'rejected') {
      throw new AppError('CRM_REJECTED', failure.message, {
        details: {
          status: failure.status,
          category: failure.category,
          correlationId: failure.correlationId,
          ...(failure.context ? { context: failure.context } : {}),
        },
      });
    }
    // A daily quota does not come back within any backoff we would wait for, nor does a wait the
    // answer asks for beyond HubSpot's own windows (a broken or hostile Retry-After would park the
    // request, and whatever it holds, for as long as it says).
    const exhausted =
      attempt >= policy.maxAttempts ||
      (failure.kind === 'rate_limited' &&
        (failure.policyName === 'DAILY' || (failure.waitMs ?? 0) > LONGEST_RATE_LIMIT_WAIT_MS)) ||
      (onlyRateLimits && failure.kind !== 'rate_limited');
    if (exhausted) throw exhaustedError(operation, failure, attempt);
    await deps.sleep(waitBefore(failure, attempt, deps));
  }
}

function waitBefore(failure: Failure, attempt: number, deps: RetryDeps): number {
  if (failure.kind === 'rate_limited' && failure.waitMs !== undefined) return failure.waitMs;
  const ceiling = Math.min(deps.policy.maxDelayMs, deps.policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(deps.random() * ceiling);
}

function exhaustedError(operation: string, failure: Failure, attempts: number): AppError {
  if (failure.kind === 'rate_limited') {
    return new AppError(
      'CRM_RATE_LIMITED',
      `HubSpot's rate limit stopped us from trying to ${operation} (${attempts} attempts).`,
      {
        retryable: true,
        details: { attempts, policyName: failure.policyName, correlationId: failure.correlationId },
      },
    );
  }
  const status = failure.kind === 'unavailable' ? failure.status : undefined;
  const networkCode = failure.kind === 'unavailable' ? failure.networkCode : undefined;
  const what =
    status !== undefined ? `answered ${status}` : `could not be reached${networkCode ? ` (${networkCode})` : ''}`;
  return new AppError('CRM_UNAVAILABLE', `HubSpot ${what} while we tried to ${operation} (${attempts} attempts).`, {
    retryable: true,
    details: { attempts, status, networkCode },
  });
}

export function classifyFailure(error: unknown): Failure {
  const candidate = error as {
    code?: unknown;
    body?: unknown;
    headers?: unknown;
    cause?: unknown;
    name?: unknown;
  } | null;
  if (
    candidate !== null &&
    typeof candidate === 'object' &&
    typeof candidate.code === 'number' &&
    'headers' in candidate
  ) {
    return classifyHttp(candidate.code, candidate.body, headerRecord(candidate.headers));
  }
  const networkCode = findNetworkCode(error);
  if (networkCode !== undefined) return { kind: 'unavailable', status: undefined, networkCode };
  // fetch reports every transport failure as a TypeError("fetch failed"), often without a code.
  if (error instanceof TypeError && /fetch failed|Failed to fetch|network/i.test(error.message)) {
    return { kind: 'unavailable', status: undefined, networkCode: undefined };
  }
  return { kind: 'unknown' };
}

function classifyHttp(status: number, body: unknown, headers: Record<string, string>): Failure {
  const fields = (body ?? {}) as {
    message?: unknown;
    category?: unknown;
    correlationId?: unknown;
    policyName?: unknown;
    context?: unknown;
  };
  const correlationId = typeof fields.correlationId === 'string' ? fields.correlationId : undefined;
  const message =
    typeof fields.message === 'string' && fields.message !== '' ? fields.message : `HubSpot answered ${status}.`;
  if (status === 429) {
    const policyName = typeof fields.policyName === 'string' ? fields.policyName : undefined;
    return { kind: 'rate_limited', status, waitMs: rateLimitWait(headers), policyName, correlationId };
  }
  if (status >= 500 || status === 0) return { kind: 'unavailable', status, networkCode: undefined };
  const category = typeof fields.category === 'string' ? fields.category : undefined;
  if (status === 401 || status === 403) return { kind: 'auth', status, message, category, correlationId };
  const context = contextOf(fields.context);
  return { kind: 'rejected', status, message, category, correlationId, ...(context ? { context } : {}) };
}

function contextOf(value: unknown): Record<string, string[]> | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const entries = Object.entries(value).filter(
    (entry): entry is [string, string[]] =>
      Array.isArray(entry[1]) && entry[1].every((item) => typeof item === 'string'),
  );
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

/** Retry-After first (seconds or an HTTP date); else a whole interval when HubSpot says none remain. */
export function rateLimitWait(headers: Record<string, string>, nowMs: number = Date.now()): number | undefined {
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined && retryAfter.trim() !== '') {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - nowMs);
  }
  const interval = Number(headers['x-hubspot-ratelimit-interval-milliseconds']);
  if (headers['x-hubspot-ratelimit-remaining'] === '0' && Number.isFinite(interval) && interval > 0) return interval;
  return undefined;
}

function headerRecord(headers: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  if (headers === null || typeof headers !== 'object') return record;
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') record[name.toLowerCase()] = value;
  }
  return record;
}

function findNetworkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
