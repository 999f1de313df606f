/**
 * The load generator for bench/webhooks.ts, run as its own process so it does not share the
 * server's event loop: autocannon with 10 connections (HubSpot's default concurrency), each
 * request a fresh batch of 100 events with new event ids, signed as HubSpot signs (v3).
 * Prints one JSON line with the figures and each acknowledged request's latency, so that slices
 * of load taken in turns (bench/webhooks.ts) add up to one distribution.
 */
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';

interface SenderInput {
  url: string;
  secret: string;
  portalId: number;
  seconds: number;
  connections: number;
  firstEventId: number;
}
interface AutocannonRequest {
  method: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
interface AutocannonResult {
  requests: { total: number };
  non2xx: number;
  errors: number;
  duration: number;
}
type Autocannon = (
  options: {
    url: string;
    connections: number;
    duration: number;
    requests: { method: string; setupRequest: (request: AutocannonRequest) => AutocannonRequest }[];
  },
  done: (error: Error | null, result: AutocannonResult) => void,
) => { on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void };

const input = JSON.parse(process.argv[2] ?? '{}') as SenderInput;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const EVENTS_PER_REQUEST = 100;
let nextEventId = input.firstEventId;
let nextRecord = 1;

function signedBatch(request: AutocannonRequest): AutocannonRequest {
  const now = Date.now();
  const events = Array.from({ length: EVENTS_PER_REQUEST }, () => ({
    eventId: nextEventId++,
    subscriptionId: 310_002,
    portalId: input.portalId,
    appId: 4242424,
    occurredAt: now,
    subscriptionType: 'contact.propertyChange',
    attemptNumber: 0,
    objectId: 1000 + (nextRecord++ % 50_000),
    propertyName: 'jobtitle',
    propertyValue: `Title ${nextEventId}`,
    changeSource: 'CRM_UI',
    sourceId: 'userId:9001',
  }));
  const body = JSON.stringify(events);
  const timestamp = String(now);
  const signature = createHmac('sha256', input.secret).update(`POST${input.url}${body}${timestamp}`).digest('base64');
  return {
    ...request,
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-hubspot-signature-version': 'v3',
      'x-hubspot-signature-v3': signature,
      'x-hubspot-request-timestamp': timestamp,
    },
  };
}

const latencies: number[] = [];
const result = await new Promise<AutocannonResult>((resolve, reject) => {
  const instance = autocannon(
    {
      url: input.url,
      connections: input.connections,
      duration: input.seconds,
      requests: [{ method: 'POST', setupRequest: signedBatch }],
    },
    (error, finished) => (error ? reject(error) : resolve(finished)),
  );
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(Math.round(ms * 10) / 10);
  });
});
const acknowledged = result.requests.total - result.non2xx;
process.stdout.write(
  `${JSON.stringify({ acknowledged, seconds: result.duration, eventsPerRequest: EVENTS_PER_REQUEST, latencies, non2xx: result.non2xx, errors: result.errors, lastEventId: nextEventId })}\n`,
);
