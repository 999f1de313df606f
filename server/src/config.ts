import { constants } from 'node:buffer';
import path from 'node:path';
import { z } from 'zod';
import { type Network, parseNetwork } from './domain/outbound-addresses.ts';
import { AppError } from './errors.ts';

/**
 * The longest wait Node's timers take (about 24.8 days): a longer one is cut to 1 ms with only a
 * warning, so a poll of 1e15 ms ran its job every millisecond.
 */
const LONGEST_TIMER_MS = 2_147_483_647;

/** A duration in ms that the server waits on with a timer, or as a lease its timers renew. */
const milliseconds = (least: number, fallback: number) =>
  z.coerce.number().int().min(least).max(LONGEST_TIMER_MS).default(fallback);

// A URL's scheme is checked, not only its shape: `localhost:5432/db` parses as a URL of scheme `localhost:`.
const postgresUrl = z.url({
  protocol: /^postgres(ql)?$/,
  error: 'must be a postgres:// URL, such as postgres://user:password@host:5432/database',
});
const PROXY_URL_EXPECTED =
  'must be an http:// URL of the egress proxy, such as http://proxy.internal:3128 or http://user:password@proxy.internal:3128 (a user or password percent-encoded)';
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, with its host' });

/** Everything the server and the CLI read from the environment, parsed once at start. */
const configSchema = z.object({
  DATABASE_URL: postgresUrl.optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Unset (and no DATABASE_URL): `npm start` may run the demo against the local sandbox. */
  HUBSPOT_API_BASE_URL: httpUrl.optional(),
  /** Calls per 10 s the adapter paces itself to; HubSpot's private-app floor is 100. */
  HUBSPOT_CALLS_PER_10S: z.coerce.number().int().positive().default(100),
  /**
   * Largest request body accepted, in bytes: at most the longest text Node holds (about 512 MB), as a
   * body is parsed as text; a larger limit let a body through to fail as a 500 instead of a 413.
   */
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .max(constants.MAX_STRING_LENGTH)
    .default(2 * 1024 * 1024),
  /** How long a request may take to arrive whole (headers and body), in ms; a stalled one is answered 408. */
  REQUEST_TIMEOUT_MS: milliseconds(1_000, 120_000),
  /** base64 of 32 bytes; encrypts CRM credentials at rest. Unset: a key file is created in DATA_DIR. */
  SECRETS_KEY: z.string().optional(),
  /** `off` keeps `npm start` from ever starting the sandbox demo, even on a fresh data folder. */
  DEMO: z.enum(['auto', 'off']).default('auto'),
  /** `off` skips the scripted enrichment batch the demo submits at start. */
  DEMO_BATCH: z.enum(['on', 'off']).default('on'),
  /** `on` (or `npm start -- --salesforce`) runs the local Salesforce in demo mode too, with a workspace connected to it. */
  DEMO_SALESFORCE: z.enum(['on', 'off']).default('off'),
  /** Where the demo's local Salesforce listens: fixed, since the demo workspace's stored connection names it. */
  SALESFORCE_SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(3002),
  /** Where the local HubSpot sandbox listens (the demo's, or `npm run sandbox`). */
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  /** Where the sandbox sends its signed webhooks; unset sends none. */
  SANDBOX_WEBHOOK_URL: httpUrl.optional(),
  /** The client secret the sandbox signs its webhooks with (HubSpot's v3 signature). */
  SANDBOX_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** The HubSpot app's client secret: verifies webhooks for every portal (a workspace's own secret is tried too). */
  HUBSPOT_CLIENT_SECRET: z.string().min(1).optional(),
  SALESFORCE_CANVAS_CONSUMER_SECRET: z.string().min(1).optional(),
  /** `host:port` of the Pub/Sub API Salesforce workspaces' change events come from (a local sandbox's in tests and the demo). */
  SALESFORCE_PUBSUB_ENDPOINT: z
    .string()
    .regex(/^(\[[\da-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/, {
      error: 'must be host:port, such as api.pubsub.salesforce.com:7443 (no scheme)',
    })
    .default('api.pubsub.salesforce.com:7443'),
  /** `true` accepts a self-signed certificate from the Pub/Sub endpoint: only for the local sandbox. */
  SALESFORCE_PUBSUB_INSECURE_TLS: z.enum(['true', 'false']).default('false'),
  /** `off` follows no Salesforce change streams in this server (another server, or none, follows them). */
  CHANGE_STREAMS: z.enum(['on', 'off']).default('on'),
  /** How long a workspace's change stream stays with the server following it after its last renewal. */
  CHANGE_STREAM_LEASE_MS: milliseconds(1_000, 60_000),
  /** How often each server looks for Salesforce workspaces whose change stream no server follows. */
  CHANGE_STREAM_POLL_MS: milliseconds(100, 10_000),
  /** The URL HubSpot reaches this server at (behind a proxy the Host header is not it); part of what webhooks sign. */
  PUBLIC_URL: httpUrl.optional(),
  /** `off` runs no webhook worker in this process (another process, or none, processes stored events). */
  WEBHOOK_WORKER: z.enum(['on', 'off']).default('on'),
  APPROVAL_JOBS: z.enum(['on', 'off']).default('on'),
  /** base64 of 32 bytes: the Ed25519 key that signs audit checkpoints. Unset: a key file in DATA_DIR with PGlite; no checkpoints with Postgres. */
  AUDIT_CHECKPOINT_KEY: z.string().optional(),
  /** Where signed checkpoints are appended, one JSON line each; default DATA_DIR/audit-checkpoints.ndjson. */
  AUDIT_CHECKPOINT_FILE: z.string().min(1).optional(),
  /** A checkpoint once a workspace's chain has grown by this many events... */
  AUDIT_CHECKPOINT_EVERY_EVENTS: z.coerce.number().int().positive().default(1_000),
  /** ...or this many seconds after the last one, if any event came since. */
  AUDIT_CHECKPOINT_EVERY_SECONDS: z.coerce
    .number()
    .positive()
    .max(Math.floor(LONGEST_TIMER_MS / 1000))
    .default(60),
  /**
   * How long a change set being written stays this server's after its last renewal (renewed as
   * its CRM batches go); once it lapses, any server's recovery takes the change set over.
   */
  CHANGE_SET_LEASE_MS: milliseconds(100, 30_000),
  /** How often each server looks for change sets whose writer died (it also looks at start). */
  CHANGE_SET_RECOVERY_POLL_MS: milliseconds(10, 5_000),
  /** How long a rollback stays with the server running it after its last heartbeat; then another resumes it. */
  ROLLBACK_LEASE_MS: milliseconds(100, 15_000),
  /** How long an approval's write claimed by a server that then died blocks the approval jobs from writing it. */
  APPROVAL_APPLY_CLAIM_MS: milliseconds(100, 5 * 60_000),
  /** How often each server looks for audit events to stream to SIEM destinations (issue 22) when none were due. */
  SIEM_POLL_MS: milliseconds(10, 1_000),
  /** The longest wait between attempts at a failing SIEM destination (the backoff doubles from 1 s up to it). */
  SIEM_RETRY_MAX_MS: milliseconds(100, 60_000),
  /**
   * How long a SIEM destination stays with the server sending to it; a server that died holds it
   * this long. Each request's timeout is a third of it, so a lease never lapses while its request can land.
   */
  SIEM_LEASE_MS: milliseconds(300, 30_000),
  /** Audit events per request to a SIEM destination (a receiver's body limit may call for fewer). */
  SIEM_EVENTS_PER_REQUEST: z.coerce.number().int().min(1).max(10_000).default(1_000),
  /** How often each server looks for alert rules to evaluate and alerts to send (issue 22) when none were due. */
  ALERT_POLL_MS: milliseconds(10, 1_000),
  /** How often a rule that watches a state (rates, waiting approvals, daily caps) is checked. */
  ALERT_CHECK_EVERY_MS: milliseconds(100, 60_000),
  /** How long a rule being evaluated or an alert being sent stays with one server; a third of it bounds each request. */
  ALERT_LEASE_MS: milliseconds(300, 30_000),
  /** The longest wait between attempts at a failing channel (the backoff doubles from 1 s up to it). */
  ALERT_RETRY_MAX_MS: milliseconds(100, 300_000),
  /** Attempts at a channel before an alert is given up (an `alert.undelivered` audit event). */
  ALERT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1_000).default(20),
  /**
   * Networks (CIDR, comma-separated) that workspaces' SIEM destinations and alert channels may reach
   * besides public addresses: an on-premises Splunk at 10.1.2.3 needs `10.1.2.3/32`. Unset: public only.
   */
  OUTBOUND_ALLOWED_NETWORKS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const entries = text.split(',').filter((entry) => entry.trim() !== '');
      const networks = entries.map(parseNetwork);
      const bad = entries.filter((_, index) => networks[index] === undefined);
      if (bad.length > 0)
        ctx.addIssue({
          code: 'custom',
          message: `must be a comma-separated list of networks such as 10.0.0.0/8, fd00::/8 or 192.0.2.7/32: ${bad.map((entry) => `"${entry.trim()}"`).join(', ')} ${bad.length === 1 ? 'is not one' : 'are not'}`,
        });
      return networks.filter((network) => network !== undefined);
    }),
  /**
   * The egress proxy SIEM and alert webhook deliveries go through (an HTTP CONNECT tunnel to the
   * address checked against OUTBOUND_ALLOWED_NETWORKS). Unset: they connect directly.
   */
  OUTBOUND_PROXY: z
    .url({ protocol: /^http$/, error: PROXY_URL_EXPECTED })
    // Its credentials are sent decoded; a stray `%` would fail every delivery instead of the start.
    .refine((url) => decodes(new URL(url).username) && decodes(new URL(url).password), { error: PROXY_URL_EXPECTED })
    .optional(),
});

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  hubspotApiBaseUrl: string;
  /** False when HUBSPOT_API_BASE_URL was not set and HubSpot's own URL is the default. */
  hubspotApiBaseUrlConfigured: boolean;
  hubspotCallsPer10s: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  secretsKey: string | undefined;
  demo: 'auto' | 'off';
  demoBatch: boolean;
  demoSalesforce: boolean;
  salesforceSandboxPort: number;
  sandboxPort: number;
  sandboxWebhook: { url: string; secret: string } | undefined;
  hubspotClientSecret: string | undefined;
  /** The Salesforce Canvas app's consumer secret (issue 20): the console opens inside Salesforce only with it. */
  salesforceCanvasConsumerSecret: string | undefined;
  /** Salesforce change events (issue 20): where the Pub/Sub API is, and how this server follows the streams. */
  changeStreams: {
    on: boolean;
    pubSubEndpoint: string;
    insecureTls: boolean;
    leaseMs: number;
    pollMs: number;
  };
  publicUrl: string | undefined;
  webhookWorker: boolean;
  approvalJobs: boolean;
  auditCheckpoints: { key: string | undefined; file: string; everyEvents: number; everyMs: number };
  changeSetLeaseMs: number;
  changeSetRecoveryPollMs: number;
  rollbackLeaseMs: number;
  approvalApplyClaimMs: number;
  siem: { pollMs: number; retryMaxMs: number; eventsPerRequest: number; leaseMs: number };
  alerts: { pollMs: number; checkEveryMs: number; leaseMs: number; retryMaxMs: number; maxAttempts: number };
  /** Where workspaces' deliveries may go besides public addresses (OUTBOUND_ALLOWED_NETWORKS); empty: public only. */
  outboundAllowedNetworks: Network[];
  /** The egress proxy HTTP deliveries tunnel through (OUTBOUND_PROXY); undefined: they connect directly. */
  outboundProxy: URL | undefined;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(emptyToUndefined(env));
  if (!parsed.success) {
    // One line a variable, its tightest bound: a whole number past 2^53 also broke zod's own safe-integer bound.
    const byVariable = new Map(parsed.error.issues.map((issue) => [issue.path.join('.'), issue]));
    const lines = [...byVariable].map(([name, issue]) => `${name} ${expectation(issue)}`);
    throw new AppError('CONFIG_INVALID', `The configuration is invalid: ${lines.join('; ')}`);
  }
  const c = parsed.data;
  const dataDir = path.resolve(c.DATA_DIR);
  return {
    databaseUrl: c.DATABASE_URL,
    dataDir,
    host: c.HOST,
    port: c.PORT,
    hubspotApiBaseUrl: c.HUBSPOT_API_BASE_URL ?? 'https://api.hubapi.com',
    hubspotApiBaseUrlConfigured: c.HUBSPOT_API_BASE_URL !== undefined,
    hubspotCallsPer10s: c.HUBSPOT_CALLS_PER_10S,
    maxBodyBytes: c.MAX_BODY_BYTES,
    requestTimeoutMs: c.REQUEST_TIMEOUT_MS,
    secretsKey: c.SECRETS_KEY,
    demo: c.DEMO,
    demoBatch: c.DEMO_BATCH === 'on',
    demoSalesforce: c.DEMO_SALESFORCE === 'on',
    salesforceSandboxPort: c.SALESFORCE_SANDBOX_PORT,
    sandboxPort: c.SANDBOX_PORT,
    sandboxWebhook: sandboxWebhook(c.SANDBOX_WEBHOOK_URL, c.SANDBOX_WEBHOOK_SECRET),
    hubspotClientSecret: c.HUBSPOT_CLIENT_SECRET,
    salesforceCanvasConsumerSecret: c.SALESFORCE_CANVAS_CONSUMER_SECRET,
    changeStreams: {
      on: c.CHANGE_STREAMS === 'on',
      pubSubEndpoint: c.SALESFORCE_PUBSUB_ENDPOINT,
      insecureTls: c.SALESFORCE_PUBSUB_INSECURE_TLS === 'true',
      leaseMs: c.CHANGE_STREAM_LEASE_MS,
      pollMs: c.CHANGE_STREAM_POLL_MS,
    },
    publicUrl: c.PUBLIC_URL,
    webhookWorker: c.WEBHOOK_WORKER === 'on',
    approvalJobs: c.APPROVAL_JOBS === 'on',
    auditCheckpoints: {
      key: c.AUDIT_CHECKPOINT_KEY,
      file: path.resolve(c.AUDIT_CHECKPOINT_FILE ?? path.join(dataDir, 'audit-checkpoints.ndjson')),
      everyEvents: c.AUDIT_CHECKPOINT_EVERY_EVENTS,
      everyMs: c.AUDIT_CHECKPOINT_EVERY_SECONDS * 1000,
    },
    changeSetLeaseMs: c.CHANGE_SET_LEASE_MS,
    changeSetRecoveryPollMs: c.CHANGE_SET_RECOVERY_POLL_MS,
    rollbackLeaseMs: c.ROLLBACK_LEASE_MS,
    approvalApplyClaimMs: c.APPROVAL_APPLY_CLAIM_MS,
    siem: {
      pollMs: c.SIEM_POLL_MS,
      retryMaxMs: c.SIEM_RETRY_MAX_MS,
      eventsPerRequest: c.SIEM_EVENTS_PER_REQUEST,
      leaseMs: c.SIEM_LEASE_MS,
    },
    alerts: {
      pollMs: c.ALERT_POLL_MS,
      checkEveryMs: c.ALERT_CHECK_EVERY_MS,
      leaseMs: c.ALERT_LEASE_MS,
      retryMaxMs: c.ALERT_RETRY_MAX_MS,
      maxAttempts: c.ALERT_MAX_ATTEMPTS,
    },
    outboundAllowedNetworks: c.OUTBOUND_ALLOWED_NETWORKS,
    outboundProxy: c.OUTBOUND_PROXY === undefined ? undefined : new URL(c.OUTBOUND_PROXY),
  };
}

/** The http URL of `host:port`, an IPv6 address in brackets: `http://::1:3000` is no URL. */
export function httpUrlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * What a variable takes, in words an operator reads at a glance: zod's own "expected number, received
 * NaN" named no range. The value given is never repeated, as some variables hold secrets.
 */
function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return 'must be a whole number';
      return issue.expected === 'number' ? 'must be a number' : `must be ${issue.expected}`;
    case 'too_small':
      return `must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}`;
    case 'too_big':
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return issue.message;
    default:
      return issue.message;
  }
}

// A signed webhook needs both halves; one without the other is a mistake worth stopping for.
function sandboxWebhook(url: string | undefined, secret: string | undefined): Config['sandboxWebhook'] {
  if (url === undefined && secret === undefined) return undefined;
  if (url === undefined || secret === undefined) {
    throw new AppError(
      'CONFIG_INVALID',
      'The configuration is invalid: set SANDBOX_WEBHOOK_URL and SANDBOX_WEBHOOK_SECRET together, or neither.',
    );
  }
  return { url, secret };
}

/**
 * `FOO=` in a shell means "not set" to a person; treat it so, and `FOO=" "` too: coerced, a blank
 * PORT was port 0, a random one.
 */
function emptyToUndefined(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value?.trim() === '' ? undefined : value]));
}

/** Whether a URL's user or password is valid percent-encoding. */
function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}
