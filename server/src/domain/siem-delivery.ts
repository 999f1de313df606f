import { createHmac } from 'node:crypto';
import type { SiemKind } from '../../../shared/siem-api.ts';
import type { AuditCheckpoint } from './audit-checkpoint.ts';

/**
 * What audit streaming (issue 22) sends and when, without I/O: each destination kind's request
 * for a batch of chained events, the webhook signature, the retry backoff and whether a failing
 * destination counts as down. Every event goes whole, with its seq, prevHash and hash, so a
 * receiver can check the chain on its side; the signed checkpoints up to the batch's last event go
 * with it, each right after the event it signs, so the receiver can check what it holds against them.
 */

/**
 * An audit event as streamed: whole as JSON text (`json`, the event as `audit export` writes it,
 * spliced into the request as it is), with the fields a request names beside it.
 */
export interface StreamedAuditEvent {
  seq: number;
  type: string;
  occurredAt: string;
  prevHash: string;
  hash: string;
  json: string;
}

export interface SiemRequest {
  headers: Record<string, string>;
  body: string;
}

const SERVICE_NAME = 'agent-governance';
/** OTLP's INFO: an audit event records something done, not a fault. */
const OTLP_SEVERITY_INFO = 9;

/** Builds the request for one batch; `secret` is the destination's opened secret, `now` stamps the webhook signature. */
export function siemRequest(options: {
  kind: SiemKind;
  url: string;
  secret: string | undefined;
  workspaceId: string;
  events: readonly StreamedAuditEvent[];
  checkpoints: readonly AuditCheckpoint[];
  now: Date;
}): SiemRequest {
  switch (options.kind) {
    case 'otlp':
      return {
        headers: {
          'content-type': 'application/json',
          ...(options.secret ? { authorization: `Bearer ${options.secret}` } : {}),
        },
        body: otlpLogsBody(options.workspaceId, inChainOrder(options.events, options.checkpoints)),
      };
    case 'splunk_hec':
      return {
        headers: { 'content-type': 'application/json', authorization: `Splunk ${options.secret ?? ''}` },
        body: inChainOrder(options.events, options.checkpoints).map(hecEvent).join('\n'),
      };
    case 'webhook': {
      const body = `{"workspaceId":${JSON.stringify(options.workspaceId)},"events":[${options.events
        .map((event) => event.json)
        .join(',')}],"checkpoints":${JSON.stringify(options.checkpoints)}}`;
      const timestamp = String(options.now.getTime());
      return {
        headers: {
          'content-type': 'application/json',
          'x-agent-governance-request-timestamp': timestamp,
          'x-agent-governance-signature-v1': webhookSignature({
            secret: options.secret ?? '',
            url: options.url,
            body,
            timestamp,
          }),
        },
        body,
      };
    }
  }
}

/**
 * HubSpot's v3 scheme with our header names: base64 of HMAC-SHA256 over method, URL, body and the
 * millisecond timestamp, joined with nothing between them. The receiver recomputes it (docs/siem.md)
 * and refuses a timestamp more than five minutes old, so a captured request cannot be replayed later.
 */
export function webhookSignature(input: { secret: string; url: string; body: string; timestamp: string }): string {
  return createHmac('sha256', input.secret).update(`POST${input.url}${input.body}${input.timestamp}`).digest('base64');
}

type Streamed = { event: StreamedAuditEvent } | { checkpoint: AuditCheckpoint };

/** Events and checkpoints by seq, a checkpoint after the event it signs. */
function inChainOrder(events: readonly StreamedAuditEvent[], checkpoints: readonly AuditCheckpoint[]): Streamed[] {
  const merged: Streamed[] = [];
  let next = 0;
  for (const event of events) {
    while (next < checkpoints.length && checkpoints[next]!.seq < event.seq)
      merged.push({ checkpoint: checkpoints[next++]! });
    merged.push({ event });
  }
  while (next < checkpoints.length) merged.push({ checkpoint: checkpoints[next++]! });
  return merged;
}

const CHECKPOINT_TYPE = 'audit.checkpoint';

function otlpLogsBody(workspaceId: string, streamed: readonly Streamed[]): string {
  return JSON.stringify({
    resourceLogs: [
      {
        resource: {
          attributes: [stringAttribute('service.name', SERVICE_NAME), stringAttribute('workspace.id', workspaceId)],
        },
        scopeLogs: [
          {
            scope: { name: `${SERVICE_NAME}.audit` },
            logRecords: streamed.map(otlpLogRecord),
          },
        ],
      },
    ],
  });
}

function otlpLogRecord(item: Streamed) {
  if ('checkpoint' in item) {
    const { checkpoint } = item;
    return {
      timeUnixNano: `${Date.parse(checkpoint.time)}000000`,
      severityNumber: OTLP_SEVERITY_INFO,
      severityText: 'INFO',
      eventName: CHECKPOINT_TYPE,
      body: { stringValue: JSON.stringify(checkpoint) },
      attributes: [
        { key: 'audit.seq', value: { intValue: String(checkpoint.seq) } },
        stringAttribute('audit.hash', checkpoint.hash),
        stringAttribute('audit.type', CHECKPOINT_TYPE),
      ],
    };
  }
  const { event } = item;
  return {
    // int64 values are strings in OTLP's JSON encoding.
    timeUnixNano: `${Date.parse(event.occurredAt)}000000`,
    severityNumber: OTLP_SEVERITY_INFO,
    severityText: 'INFO',
    eventName: event.type,
    body: { stringValue: event.json },
    attributes: [
      { key: 'audit.seq', value: { intValue: String(event.seq) } },
      stringAttribute('audit.hash', event.hash),
      stringAttribute('audit.prev_hash', event.prevHash),
      stringAttribute('audit.type', event.type),
    ],
  };
}

function stringAttribute(key: string, value: string) {
  return { key, value: { stringValue: value } };
}

function hecEvent(item: Streamed): string {
  if ('checkpoint' in item)
    return JSON.stringify({
      time: Date.parse(item.checkpoint.time) / 1000,
      source: SERVICE_NAME,
      sourcetype: 'agent_governance:checkpoint',
      event: item.checkpoint,
      fields: { seq: item.checkpoint.seq, hash: item.checkpoint.hash },
    });
  const { event } = item;
  return `{"time":${Date.parse(event.occurredAt) / 1000},"source":"${SERVICE_NAME}","sourcetype":"agent_governance:audit","event":${event.json},"fields":{"seq":${event.seq},"hash":${JSON.stringify(event.hash)}}}`;
}

/**
 * Waits after the nth failure in a row: 1 s, 2 s, 4 s... up to `maxMs`, or longer when the receiver
 * asked for longer (a 429 or 503's Retry-After), but never past `maxMs`: a receiver cannot stop
 * delivery for longer than the operator allows.
 */
export function retryDelayMs(attempts: number, maxMs: number, askedMs = 0): number {
  return Math.min(Math.max(1_000 * 2 ** Math.min(attempts - 1, 30), askedMs), maxMs);
}

/**
 * A Retry-After header's wait in ms (RFC 9110: seconds, or a date in the form senders must use,
 * `Sun, 06 Nov 1994 08:49:37 GMT`), or undefined when it is absent or reads as neither: Date.parse
 * alone would take "-5" or "1.5" for dates.
 */
export function retryAfterMs(header: string | undefined, now: Date): number | undefined {
  const value = header?.trim() ?? '';
  if (/^\d{1,10}$/.test(value)) return Number(value) * 1_000;
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** A destination is down once it has been failing for longer than its configured time. */
export function isDown(input: { failingSince: Date | null; downAfterSeconds: number; now: Date }): boolean {
  return (
    input.failingSince !== null && input.now.getTime() - input.failingSince.getTime() > input.downAfterSeconds * 1000
  );
}
