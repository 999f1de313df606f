import { createHmac } from 'node:crypto';
import type { FakeObjectType, HubSpotState, StateChange } from './state.ts';

/** One event as HubSpot's webhooks API sends it (v3 payloads are JSON arrays of these). */
export interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  changeSource: string;
  sourceId?: string;
  propertyName?: string;
  propertyValue?: string;
}

export interface WebhookSenderOptions {
  state: HubSpotState;
  /** The full URL HubSpot would call; it is part of what the signature covers. */
  targetUrl: string;
  /** The app's client secret: the HMAC key of the v3 signature. */
  clientSecret: string;
  portalId: number;
  /** HubSpot sends at most 100 events per request. */
  batchSize?: number;
  /** How long changes are gathered before a request goes out, so a batch update becomes one delivery. */
  gatherMs?: number;
  /** HubSpot tries a notification up to 10 times in all. */
  maxAttempts?: number;
  /** Wait before attempt `n + 1` after `n` failed; HubSpot spreads its retries over a day, tests want milliseconds. */
  retryDelayMs?: (failedAttempt: number) => number;
  /** HubSpot gives up on a request after 5 s and counts it as failed. */
  timeoutMs?: number;
  /** HubSpot sends to one app at most 10 requests at once. */
  concurrency?: number;
  onDelivery?: (outcome: {
    events: number;
    attemptNumber: number;
    status: number | 'network-error';
    delivered: boolean;
  }) => void;
}

export interface WebhookSender {
  /** Events gathered, in flight or waiting for a retry. */
  pending(): number;
  /** Resolves when nothing is pending (delivered, or given up after the last attempt). */
  idle(): Promise<void>;
  close(): void;
}

const SUBSCRIPTION_IDS: Record<string, number> = {
  'contact.creation': 310_001,
  'contact.propertyChange': 310_002,
  'deal.creation': 310_003,
  'deal.propertyChange': 310_004,
};
const SINGULAR: Record<FakeObjectType, string> = { contacts: 'contact', deals: 'deal' };

/** HubSpot's v3 request signature: base64 HMAC-SHA256 of method, full URI, raw body and timestamp, keyed by the client secret. */
export function signV3(input: {
  clientSecret: string;
  method: string;
  url: string;
  body: string;
  timestamp: number;
}): string {
  return createHmac('sha256', input.clientSecret)
    .update(`${input.method}${input.url}${input.body}${input.timestamp}`)
    .digest('base64');
}

// HubSpot's documented rule: these answers mean "do not send this again"; anything else not 2xx is retried.
const FINAL_REFUSALS = new Set([400, 401, 403, 404, 405]);

/**
 * Turns record changes in the state into signed HubSpot webhook deliveries: batched, sent with
 * bounded concurrency, and retried on network errors, timeouts, 429 (after its Retry-After) and
 * any answer but 2xx and 400/401/403/404/405, until the attempts run out. A retried event keeps its eventId and carries the next attemptNumber, as
 * HubSpot's do, so a receiver can tell a retry from a new change.
 */
export function startWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const batchSize = options.batchSize ?? 100;
  const gatherMs = options.gatherMs ?? 50;
  const maxAttempts = options.maxAttempts ?? 10;
  const retryDelayMs = options.retryDelayMs ?? ((n: number) => Math.min(3_600_000, 1_000 * 2 ** (n - 1)));
  const timeoutMs = options.timeoutMs ?? 5_000;
  const concurrency = options.concurrency ?? 10;
  const appId = Number(options.state.appId);
  // Ids must not repeat across sandbox restarts, or a receiver would take new events for retries.
  let nextEventId = Date.now() * 1_000;
  let gathered: WebhookEvent[] = [];
  let gatherTimer: NodeJS.Timeout | undefined;
  const ready: WebhookEvent[][] = [];
  const retryTimers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let pendingEvents = 0;
  let closed = false;
  let waiters: (() => void)[] = [];

  const settle = () => {
    if (pendingEvents > 0) return;
    const resolved = waiters;
    waiters = [];
    for (const resolve of resolved) resolve();
  };

  const pump = () => {
    while (!closed && inFlight < concurrency && ready.length > 0) {
      const batch = ready.shift();
      if (batch !== undefined) void deliver(batch);
    }
  };

  const deliver = async (events: WebhookEvent[]) => {
    inFlight += 1;
    const attemptNumber = events[0]?.attemptNumber ?? 0;
    const body = JSON.stringify(events);
    const timestamp = Date.now();
    let status: number | 'network-error' = 'network-error';
    let retryAfterMs: number | undefined;
    try {
      const response = await fetch(options.targetUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) (sandbox)',
          'x-hubspot-signature-version': 'v3',
          'x-hubspot-signature-v3': signV3({
            clientSecret: options.clientSecret,
            method: 'POST',
            url: options.targetUrl,
            body,
            timestamp,
          }),
          'x-hubspot-request-timestamp': String(timestamp),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      const retryAfter = Number(response.headers.get('retry-after'));
      if (status === 429 && Number.isFinite(retryAfter) && retryAfter >= 0) retryAfterMs = retryAfter * 1000;
      await response.body?.cancel();
    } catch {
      status = 'network-error';
    }
    inFlight -= 1;
    const delivered = typeof status === 'number' && status >= 200 && status < 300;
    options.onDelivery?.({ events: events.length, attemptNumber, status, delivered });
    const refused = typeof status === 'number' && FINAL_REFUSALS.has(status);
    if (delivered || refused || attemptNumber + 1 >= maxAttempts || closed) {
      pendingEvents -= events.length;
    } else {
      const timer = setTimeout(
        () => {
          retryTimers.delete(timer);
          ready.push(events.map((event) => ({ ...event, attemptNumber: attemptNumber + 1 })));
          pump();
        },
        retryAfterMs ?? retryDelayMs(attemptNumber + 1),
      );
      retryTimers.add(timer);
    }
    pump();
    settle();
  };

  const flushGathered = () => {
    gatherTimer = undefined;
    for (let start = 0; start < gathered.length; start += batchSize)
      ready.push(gathered.slice(start, start + batchSize));
    gathered = [];
    pump();
  };

  const listener = (change: StateChange) => {
    // The app subscribes to no deletion events, so an archive sends none.
    if (
      closed ||
      change.kind === 'schema-changed' ||
      change.kind === 'custom-objects-changed' ||
      change.kind === 'record-archived'
    )
      return;
    const singular = SINGULAR[change.objectType];
    const subscriptionType = change.kind === 'record-created' ? `${singular}.creation` : `${singular}.propertyChange`;
    const event: WebhookEvent = {
      eventId: nextEventId++,
      subscriptionId: SUBSCRIPTION_IDS[subscriptionType] ?? 0,
      portalId: options.portalId,
      appId,
      occurredAt: change.kind === 'record-created' ? change.at : change.entry.timestamp,
      subscriptionType,
      attemptNumber: 0,
      objectId: Number(change.recordId),
      changeSource: change.kind === 'record-created' ? 'CRM_UI' : change.entry.sourceType,
      ...(change.kind === 'property-changed'
        ? { sourceId: change.entry.sourceId, propertyName: change.propertyName, propertyValue: change.entry.value }
        : {}),
    };
    gathered.push(event);
    pendingEvents += 1;
    if (gathered.length >= batchSize) flushGathered();
    else gatherTimer ??= setTimeout(flushGathered, gatherMs);
  };
  options.state.listeners.add(listener);

  return {
    pending: () => pendingEvents,
    idle: () => (pendingEvents === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
    close() {
      closed = true;
      options.state.listeners.delete(listener);
      if (gatherTimer !== undefined) clearTimeout(gatherTimer);
      for (const timer of retryTimers) clearTimeout(timer);
      retryTimers.clear();
      pendingEvents = 0;
      settle();
    },
  };
}
