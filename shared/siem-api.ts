import { z } from 'zod';
import { safeText, text } from './safe-text.ts';

export const SIEM_KINDS = ['otlp', 'splunk_hec', 'webhook'] as const;
export type SiemKind = (typeof SIEM_KINDS)[number];

/** Loopback receivers may use plain HTTP (a local collector or agent); anything else must be HTTPS. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export const siemUrlSchema = safeText.max(2_000).refine((value) => {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}, 'must be an https:// URL (plain http:// only to localhost)');

/** What a stored URL's user and password, and its credential query parameters' values, are shown as. */
export const HIDDEN_CREDENTIALS = '***';

/**
 * A query parameter that carries a credential (`?token=`, `?dd-api-key=`, `?sig=`, `?access_key=`…),
 * by its name lower-cased without separators: receivers that take a token in the URL name it so.
 */
const CREDENTIAL_PARAMETER = /token|secret|passw|pwd|key|auth|sig|credential/;
const credentialParameters = (url: URL) =>
  [...url.searchParams.keys()].filter((name) =>
    CREDENTIAL_PARAMETER.test(name.toLowerCase().replaceAll(/[^a-z0-9]/g, '')),
  );

/**
 * A destination's URL as every person and API client is shown it (lists, the CLI, audit events),
 * its user and password, if any, replaced by one `***`, and each credential query parameter's value
 * by `***`. New URLs cannot carry them, but a destination saved before that was refused may, and
 * delivery still sends them (node:http makes a user and password a Basic credential), so only what
 * is shown changes, never the stored URL.
 */
export function shownSiemUrl(url: string): string {
  const parsed = new URL(url);
  if (!carriesCredentials(parsed)) return url;
  if (parsed.username !== '' || parsed.password !== '') {
    parsed.username = HIDDEN_CREDENTIALS;
    parsed.password = '';
  }
  for (const name of credentialParameters(parsed)) parsed.searchParams.set(name, HIDDEN_CREDENTIALS);
  return parsed.href;
}

function carriesCredentials(url: URL): boolean {
  return url.username !== '' || url.password !== '' || credentialParameters(url).length > 0;
}

/** A URL as a listing shows it, its credentials replaced by the marker. */
function showsHiddenCredentials(url: URL): boolean {
  return (
    url.username === HIDDEN_CREDENTIALS ||
    credentialParameters(url).some((name) => url.searchParams.get(name) === HIDDEN_CREDENTIALS)
  );
}

export const createSiemDestinationSchema = z
  .strictObject({
    name: text(100),
    kind: z
      .enum(SIEM_KINDS)
      .describe(
        'otlp: OpenTelemetry logs over OTLP/HTTP JSON (the URL ends in /v1/logs); splunk_hec: Splunk HTTP Event Collector (the URL ends in /services/collector/event); webhook: a POST signed with HMAC-SHA256.',
      ),
    // The URL is shown to everyone who reads the settings and written into the audit chain, so a
    // user:password or a token parameter in it would be too; credentials go in `secret`, which is sealed.
    // A listed URL sent back (to re-create a destination) carries the marker, never the credentials:
    // refused too, and told so, since the stored ones cannot be copied out of a listing.
    url: siemUrlSchema.refine((value) => !URL.canParse(value) || !carriesCredentials(new URL(value)), {
      error: (issue) =>
        showsHiddenCredentials(new URL(String(issue.input)))
          ? `shows its credentials hidden as ${HIDDEN_CREDENTIALS}, as a listed URL does, and those cannot be copied from a listing: give the URL without them and the token as secret`
          : 'must not carry a user, a password or a credential parameter (token=, api_key=, sig=…): give the token as secret, which is stored sealed and never shown',
    }),
    secret: safeText
      .min(1)
      .max(1_000)
      .optional()
      .describe(
        'splunk_hec: the HEC token (required); webhook: the signing secret, at least 32 characters (required); otlp: a bearer token (optional). Stored sealed, never returned.',
      ),
    downAfterSeconds: z
      .number()
      .int()
      .min(10)
      .max(7 * 24 * 3600)
      .default(900)
      .describe('A destination failing this long is recorded as down (an audit event and its status).'),
    startFrom: z
      .enum(['beginning', 'now'])
      .default('beginning')
      .describe('beginning: the whole audit chain is sent; now: only events after the current head.'),
  })
  .superRefine((input, ctx) => {
    if (input.kind === 'splunk_hec' && input.secret === undefined)
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'a splunk_hec destination needs its HEC token' });
    if (input.kind === 'webhook' && (input.secret === undefined || input.secret.length < 32))
      ctx.addIssue({
        code: 'custom',
        path: ['secret'],
        message: 'a webhook destination needs a signing secret of at least 32 characters',
      });
  })
  .meta({ id: 'CreateSiemDestination' });
export type CreateSiemDestination = z.infer<typeof createSiemDestinationSchema>;

export const siemDestinationViewSchema = z
  .strictObject({
    id: z.uuid(),
    name: safeText,
    kind: z.enum(SIEM_KINDS),
    url: safeText.describe(
      `Any user and password in it shown as ${HIDDEN_CREDENTIALS} (https://${HIDDEN_CREDENTIALS}@host/…).`,
    ),
    hasSecret: z.boolean().describe('The secret itself is never returned.'),
    downAfterSeconds: z.number().int(),
    status: z
      .enum(['current', 'behind', 'failing', 'down'])
      .describe(
        'current: has every event; behind: catching up; failing: its last attempt failed; down: failing for longer than downAfterSeconds.',
      ),
    cursorSeq: z.number().int().describe('The last audit seq the destination acknowledged.'),
    headSeq: z.number().int().describe('The workspace audit chain’s newest seq.'),
    deliveredAt: z.iso.datetime().nullable(),
    failingSince: z.iso.datetime().nullable(),
    nextAttemptAt: z.iso.datetime(),
    lastError: safeText.nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'SiemDestination' });
export type SiemDestinationView = z.infer<typeof siemDestinationViewSchema>;
