import { randomUUID } from 'node:crypto';
import { AUTH_MESSAGE, errorResponse, json, type HubSpotResponse } from './responses.ts';

export type ScriptedFailure =
  | { status: 429; retryAfterSeconds?: number; intervalMs?: number }
  | { status: 500 | 502 | 503 | 504 }
  /** The token revoked while the client held it: HubSpot's 401 for a bad token. */
  | { status: 401 }
  | { status: 'connection-reset' };

export interface RateLimitSettings {
  /** Calls allowed in any rolling window of `intervalMs` (HubSpot: 100 or 190 per 10 s). */
  maxCalls: number;
  intervalMs: number;
  /** Calls allowed per UTC day; omitted means unlimited. */
  dailyMax?: number;
}

const DAY_MS = 86_400_000;

/**
 * Switchable misbehaviour for the fake: latency, HubSpot's rolling rate limit, scripted
 * failures for the next calls, records whose batch updates HubSpot would reject, and calls held
 * until a test releases them.
 */
export class HubSpotFaults {
  latencyMs = 0;
  /**
   * HubSpot's search index trails its records: a record created less than this long ago (on the
   * fake's clock) is not yet found by search, though it can be read by id (issue 21's duplicate check).
   */
  searchIndexLagMs = 0;
  private rateLimit: RateLimitSettings | undefined;
  private acceptedAt: number[] = [];
  private daily = { day: -1, count: 0 };
  private readonly script: { failure: ScriptedFailure; route: string | undefined }[] = [];
  private readonly rejections = new Map<string, string>();
  private refusing: { until: number; retryAfterSeconds: number } | undefined;
  private readonly holds = new Map<string, { arrived: () => void; released: Promise<void>; release: () => void }>();

  setRateLimit(settings: RateLimitSettings): void {
    this.rateLimit = settings;
    this.acceptedAt = [];
  }

  clearRateLimit(): void {
    this.rateLimit = undefined;
  }

  /**
   * Every call answers 429 with `Retry-After` until `until` on the fake's clock, as a portal does whose
   * app burned through its limit elsewhere: a 429 storm at one portal while the others answer normally.
   */
  refuseUntil(until: number, retryAfterSeconds = 10): void {
    this.refusing = { until, retryAfterSeconds };
  }

  /**
   * The next `count` calls answer with `failure` before any other check, as a load balancer would.
   * With `route` (a template such as `POST /crm/v3/objects/{type}/batch/update`) only calls to it fail,
   * so a test can break the writes of a change set and not its reads.
   */
  failNext(count: number, failure: ScriptedFailure, route?: string): void {
    for (let i = 0; i < count; i += 1) this.script.push({ failure, route });
  }

  /**
   * Calls to `route` wait, before the fake does their work, until `release` is called; `arrived`
   * resolves when the first one comes. A test sees what the server does while a write is in
   * flight (has it answered yet?) without timing anything.
   */
  hold(route: string): { arrived: Promise<void>; release: () => void } {
    const arrival = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    const entry = { arrived: arrival.resolve, released: release.promise, release: release.resolve };
    this.holds.set(route, entry);
    return {
      arrived: arrival.promise,
      release: () => {
        if (this.holds.get(route) === entry) this.holds.delete(route);
        release.resolve();
      },
    };
  }

  /** While calls to this route are held (see `hold`), the release to wait for; else nothing, so an unheld call is not delayed a tick. */
  waitWhileHeld(route: string): Promise<void> | undefined {
    const held = this.holds.get(route);
    if (held === undefined) return undefined;
    held.arrived();
    return held.released;
  }

  /** Batch updates touching this record answer 207 with a VALIDATION_ERROR for it; the others are written. */
  rejectUpdatesOf(
    objectType: string,
    recordId: string,
    message = `Property values were not valid for record ${recordId}`,
  ): void {
    this.rejections.set(`${objectType}/${recordId}`, message);
  }

  rejectionFor(objectType: string, recordId: string): string | undefined {
    return this.rejections.get(`${objectType}/${recordId}`);
  }

  reset(): void {
    this.latencyMs = 0;
    this.searchIndexLagMs = 0;
    this.rateLimit = undefined;
    this.acceptedAt = [];
    this.daily = { day: -1, count: 0 };
    this.script.length = 0;
    this.rejections.clear();
    this.refusing = undefined;
    for (const held of this.holds.values()) held.release();
    this.holds.clear();
  }

  /** Consumes the next scripted failure meant for this route, if one is queued, as a response. */
  takeScriptedFailure(route: string): HubSpotResponse | undefined {
    const index = this.script.findIndex((entry) => entry.route === undefined || entry.route === route);
    if (index === -1) return undefined;
    const failure = this.script.splice(index, 1)[0]?.failure;
    if (failure === undefined) return undefined;
    if (failure.status === 'connection-reset') return { status: 0, headers: {}, body: null, dropConnection: true };
    if (failure.status === 429) {
      const intervalMs = failure.intervalMs ?? 10_000;
      const headers: Record<string, string> = {
        'x-hubspot-ratelimit-interval-milliseconds': String(intervalMs),
        'x-hubspot-ratelimit-max': '100',
        'x-hubspot-ratelimit-remaining': '0',
      };
      if (failure.retryAfterSeconds !== undefined) headers['retry-after'] = String(failure.retryAfterSeconds);
      return json(429, rateLimitBody('TEN_SECONDLY_ROLLING'), headers);
    }
    if (failure.status === 401) return errorResponse(401, 'INVALID_AUTHENTICATION', AUTH_MESSAGE);
    const messages = {
      500: 'internal error',
      502: 'Bad Gateway',
      503: 'Service Unavailable',
      504: 'Gateway Timeout',
    } as const;
    return errorResponse(failure.status, 'INTERNAL_ERROR', messages[failure.status]);
  }

  /**
   * Counts this call against the rolling and daily windows. Returns the 429 to send when over
   * the limit, else the rate-limit headers HubSpot puts on every answer. Refused calls are not
   * counted, so a client that waits as told gets through.
   */
  admit(now: number): { refused?: HubSpotResponse; headers: Record<string, string> } {
    if (this.refusing !== undefined && now < this.refusing.until) {
      return {
        refused: json(429, rateLimitBody('TEN_SECONDLY_ROLLING'), {
          'retry-after': String(this.refusing.retryAfterSeconds),
        }),
        headers: {},
      };
    }
    const limit = this.rateLimit;
    if (limit === undefined) return { headers: {} };
    this.acceptedAt = this.acceptedAt.filter((at) => at > now - limit.intervalMs);
    const day = Math.floor(now / DAY_MS);
    if (this.daily.day !== day) this.daily = { day, count: 0 };

    if (limit.dailyMax !== undefined && this.daily.count >= limit.dailyMax) {
      return { refused: json(429, rateLimitBody('DAILY'), this.headers(limit, 0)), headers: {} };
    }
    if (this.acceptedAt.length >= limit.maxCalls) {
      return { refused: json(429, rateLimitBody('TEN_SECONDLY_ROLLING'), this.headers(limit, 0)), headers: {} };
    }
    this.acceptedAt.push(now);
    this.daily.count += 1;
    return { headers: this.headers(limit, limit.maxCalls - this.acceptedAt.length) };
  }

  private headers(limit: RateLimitSettings, remaining: number): Record<string, string> {
    const headers: Record<string, string> = {
      'x-hubspot-ratelimit-interval-milliseconds': String(limit.intervalMs),
      'x-hubspot-ratelimit-max': String(limit.maxCalls),
      'x-hubspot-ratelimit-remaining': String(remaining),
    };
    if (limit.dailyMax !== undefined) {
      headers['x-hubspot-ratelimit-daily'] = String(limit.dailyMax);
      headers['x-hubspot-ratelimit-daily-remaining'] = String(Math.max(0, limit.dailyMax - this.daily.count));
    }
    return headers;
  }
}

function rateLimitBody(policyName: 'TEN_SECONDLY_ROLLING' | 'DAILY') {
  return {
    status: 'error',
    message:
      policyName === 'DAILY'
        ? 'You have reached your daily limit.'
        : 'You have reached your ten_secondly_rolling limit.',
    errorType: 'RATE_LIMIT',
    correlationId: randomUUID(),
    policyName,
  };
}
