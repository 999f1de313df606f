import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceiverKind = 'otlp' | 'splunk_hec' | 'webhook';

export interface ReceivedEvent {
  seq: number;
  hash: string;
  prevHash: string;
  type: string;
}

export interface SiemReceiver {
  kind: ReceiverKind;
  url: string;
  /** Every event of every accepted request, in arrival order (duplicates included). */
  received: ReceivedEvent[];
  /** The same events whole, as sent. */
  whole: Record<string, unknown>[];
  /** The signed checkpoints, as sent, with the number of events received before each. */
  checkpoints: { checkpoint: Record<string, unknown>; afterEvents: number }[];
  /** Requests refused for a bad token or signature. */
  refused: number;
  /** Every request that reached it, answered 2xx or not. */
  requests: number;
  /** The Authorization header of every request that reached it ('' when there was none). */
  authorizations: string[];
  /** Every TCP connection it accepted, whether a request came on it or not. */
  connections: number;
  /** While set, every request is answered with this status and nothing is recorded. */
  failWith: number | undefined;
  /** Sent with `failWith` as its Retry-After header, when set. */
  retryAfter: string | undefined;
  close(): Promise<void>;
}

/** Where each kind of receiver listens, as a collector, HEC or webhook endpoint would. */
const PATHS: Record<ReceiverKind, string> = {
  otlp: '/v1/logs',
  splunk_hec: '/services/collector/event',
  webhook: '/audit-webhook',
};

/**
 * A stand-in for an OpenTelemetry collector, a Splunk HEC or a webhook receiver: a real HTTP server
 * that checks what the real one would (the HEC token, the webhook's signature and timestamp, as
 * docs/siem.md tells a receiver to) and records the events it accepted.
 */
export async function startSiemReceiver(options: {
  kind: ReceiverKind;
  secret?: string;
  port?: number;
  /** Answers each request this much later, as a busy collector would. */
  delayMs?: number;
  /** Called with each accepted request's events; the answer waits for what it returns. */
  onEvents?: (events: ReceivedEvent[]) => void | Promise<void>;
}): Promise<SiemReceiver> {
  const receiver: SiemReceiver = {
    kind: options.kind,
    url: '',
    received: [],
    whole: [],
    checkpoints: [],
    refused: 0,
    requests: 0,
    authorizations: [],
    connections: 0,
    failWith: undefined,
    retryAfter: undefined,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      receiver.requests += 1;
      receiver.authorizations.push(req.headers.authorization ?? '');
      if (receiver.failWith !== undefined)
        return void res
          .writeHead(receiver.failWith, receiver.retryAfter === undefined ? {} : { 'retry-after': receiver.retryAfter })
          .end();
      if (req.url !== PATHS[options.kind]) return void res.writeHead(404).end();
      if (!authorised(options.kind, options.secret, receiver.url, req.headers, body)) {
        receiver.refused += 1;
        return void res.writeHead(401).end();
      }
      const events: ReceivedEvent[] = [];
      for (const item of itemsOf(options.kind, body)) {
        if ('checkpoint' in item) {
          receiver.checkpoints.push({ checkpoint: item.checkpoint, afterEvents: receiver.received.length });
          continue;
        }
        receiver.whole.push(item.event);
        receiver.received.push(pick(item.event));
        events.push(pick(item.event));
      }
      void Promise.resolve(options.onEvents?.(events)).then(() =>
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), options.delayMs ?? 0),
      );
    });
  });
  server.on('connection', () => (receiver.connections += 1));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATHS[options.kind]}`;
  return receiver;
}

function authorised(
  kind: ReceiverKind,
  secret: string | undefined,
  url: string,
  headers: http.IncomingHttpHeaders,
  body: string,
): boolean {
  if (kind === 'splunk_hec') return headers.authorization === `Splunk ${secret}`;
  if (kind === 'otlp') return secret === undefined || headers.authorization === `Bearer ${secret}`;
  // The webhook check exactly as docs/siem.md describes it.
  const timestamp = headers['x-agent-governance-request-timestamp'];
  const signature = headers['x-agent-governance-signature-v1'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || secret === undefined) return false;
  if (Math.abs(Date.now() - Number(timestamp)) > 5 * 60_000) return false;
  const expected = createHmac('sha256', secret).update(`POST${url}${body}${timestamp}`).digest();
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function pick(event: Record<string, unknown>): ReceivedEvent {
  return {
    seq: event.seq as number,
    hash: event.hash as string,
    prevHash: event.prevHash as string,
    type: event.type as string,
  };
}

type Item = { event: Record<string, unknown> } | { checkpoint: Record<string, unknown> };

/** The events and signed checkpoints of one request, in the order sent. */
function itemsOf(kind: ReceiverKind, body: string): Item[] {
  type Event = Record<string, unknown>;
  if (kind === 'webhook') {
    // The webhook sends checkpoints beside the events: each goes after the event of its seq.
    const parsed = JSON.parse(body) as { events: Event[]; checkpoints?: Event[] };
    const items: Item[] = [];
    const checkpoints = [...(parsed.checkpoints ?? [])];
    for (const event of parsed.events) {
      while (checkpoints.length > 0 && (checkpoints[0]!.seq as number) < (event.seq as number))
        items.push({ checkpoint: checkpoints.shift()! });
      items.push({ event });
    }
    return [...items, ...checkpoints.map((checkpoint) => ({ checkpoint }))];
  }
  if (kind === 'splunk_hec')
    return body.split('\n').map((line) => {
      const parsed = JSON.parse(line) as { event: Event; sourcetype: string };
      return parsed.sourcetype === 'agent_governance:checkpoint'
        ? { checkpoint: parsed.event }
        : { event: parsed.event };
    });
  const logs = JSON.parse(body) as {
    resourceLogs: { scopeLogs: { logRecords: { eventName: string; body: { stringValue: string } }[] }[] }[];
  };
  return logs.resourceLogs.flatMap((resource) =>
    resource.scopeLogs.flatMap((scope) =>
      scope.logRecords.map((record) => {
        const parsed = JSON.parse(record.body.stringValue) as Event;
        return record.eventName === 'audit.checkpoint' ? { checkpoint: parsed } : { event: parsed };
      }),
    ),
  );
}
