import { createHmac } from 'node:crypto';
import type { SiemKind } from '../../../shared/siem-api.ts';
import type { ChainedAuditEvent } from './audit-chain.ts';

/**
 * What audit streaming (issue 22) sends and when, without I/O: each destination kind's request
 * for a batch of chained events, the webhook signature, the retry backoff and whether a failing
 * destination counts as down. Every event goes whole, with its seq, prevHash and hash, so a
 * receiver can check the chain on its side.
 */

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
  events: readonly ChainedAuditEvent[];
  now: Date;
}): SiemRequest {
  switch (options.kind) {
    case 'otlp':
      return {
        headers: {
          'content-type': 'application/json',
          ...(options.secret ? { authorization: `Bearer ${options.secret}` } : {}),
        },
        body: otlpLogsBody(options.workspaceId, options.events),
      };
    case 'splunk_hec':
      return {
        headers: { 'content-type': 'application/json', authorization: `Splunk ${options.secret ?? ''}` },
        body: options.events.map(hecEvent).join('\n'),
      };
    case 'webhook': {
      const body = JSON.stringify({ workspaceId: options.workspaceId, events: options.events });
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

function otlpLogsBody(workspaceId: string, events: readonly ChainedAuditEvent[]): string {
  return JSON.stringify({
    resourceLogs: [
      {
        resource: {
          attributes: [stringAttribute('service.name', SERVICE_NAME), stringAttribute('workspace.id', workspaceId)],
        },
        scopeLogs: [
          {
            scope: { name: `${SERVICE_NAME}.audit` },
            logRecords: events.map((event) => ({
              // int64 values are strings in OTLP's JSON encoding.
              timeUnixNano: `${Date.parse(event.occurredAt)}000000`,
              severityNumber: OTLP_SEVERITY_INFO,
              severityText: 'INFO',
              eventName: event.type,
              body: { stringValue: JSON.stringify(event) },
              attributes: [
                { key: 'audit.seq', value: { intValue: String(event.seq) } },
                stringAttribute('audit.hash', event.hash),
                stringAttribute('audit.prev_hash', event.prevHash),
                stringAttribute('audit.type', event.type),
              ],
            })),
          },
        ],
      },
    ],
  });
}

function stringAttribute(key: string, value: string) {
  return { key, value: { stringValue: value } };
}

function hecEvent(event: ChainedAuditEvent): string {
  return JSON.stringify({
    time: Date.parse(event.occurredAt) / 1000,
    source: SERVICE_NAME,
    sourcetype: 'agent_governance:audit',
    event,
    fields: { seq: event.seq, hash: event.hash },
  });
}

/** Waits after the nth failure in a row: 1 s, 2 s, 4 s... up to `maxMs`. */
export function retryDelayMs(attempts: number, maxMs: number): number {
  return Math.min(1_000 * 2 ** Math.min(attempts - 1, 30), maxMs);
}

/** A destination is down once it has been failing for longer than its configured time. */
export function isDown(input: { failingSince: Date | null; downAfterSeconds: number; now: Date }): boolean {
  return (
    input.failingSince !== null && input.now.getTime() - input.failingSince.getTime() > input.downAfterSeconds * 1000
  );
}
