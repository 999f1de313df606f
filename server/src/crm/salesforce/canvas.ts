import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { safeText } from '../../../../shared/safe-text.ts';
import type { EmbeddedAppCheck, EmbeddedAppRequest } from '../../services/console/index.ts';
import { duplicateKeyIn, parseJson } from '../../../../shared/json-text.ts';
import { eighteenCharacters, SALESFORCE_ID } from './names.ts';

/**
 * Salesforce Canvas signed requests (issue 20, point 6). Salesforce POSTs `signed_request` =
 * `<base64 HMAC-SHA256 of the encoded envelope, keyed by the consumer secret>.<base64 JSON
 * envelope>`. The signature is checked over the encoded envelope's exact bytes before a single
 * field of it is read; jsforce only decodes it. A signature holds for ever and Salesforce names no
 * issue time, so the envelope's OAuth token is what proves it fresh: the console's service has
 * the org confirm it (`userinfo.ts`) before a session starts. Its instance URL is not used: the
 * org's address is the one the workspace stored.
 */
const id = safeText.regex(SALESFORCE_ID, 'must be a Salesforce id (15 or 18 letters and digits)');

const envelopeSchema = z.object({
  algorithm: z.literal('HMACSHA256'),
  // Salesforce's own example envelope has `"issuedAt": null` ("for internal use only").
  issuedAt: z.number().nullish(),
  userId: id,
  client: z.object({
    instanceUrl: safeText.url(),
    oauthToken: safeText.optional(),
    targetOrigin: safeText.optional(),
  }),
  context: z.object({
    user: z.object({ userId: id, userName: safeText.optional(), email: safeText.optional() }),
    organization: z.object({ organizationId: id }),
    environment: z
      .object({ parameters: z.record(z.string(), z.unknown()).optional(), locationUrl: safeText.optional() })
      .optional(),
  }),
});

export const verifyCanvasSignedRequest: EmbeddedAppCheck = (signedRequest, secrets) => {
  const dot = signedRequest.indexOf('.');
  if (dot <= 0) return { ok: false };
  const signature = Buffer.from(signedRequest.slice(0, dot), 'base64');
  const encoded = signedRequest.slice(dot + 1);
  const signedBySecret = secrets.some((secret) => {
    const expected = createHmac('sha256', secret).update(encoded, 'utf8').digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  });
  if (!signedBySecret) return { ok: false };
  const text = Buffer.from(encoded, 'base64').toString('utf8');
  let json: unknown;
  try {
    json = parseJson(text);
  } catch {
    return { ok: false };
  }
  // An envelope naming `userId` twice is one user to us (the last) and may be another to whoever
  // else reads it (the first): refused as a request that does not verify.
  if (duplicateKeyIn(text)) return { ok: false };
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) return { ok: false };
  const envelope = parsed.data;
  const recordId = envelope.context.environment?.parameters?.recordId;
  const request: EmbeddedAppRequest = {
    crmUserId: eighteenCharacters(envelope.context.user.userId),
    accountId: eighteenCharacters(envelope.context.organization.organizationId),
    recordId: typeof recordId === 'string' && SALESFORCE_ID.test(recordId) ? recordId : null,
    userToken: envelope.client.oauthToken ?? null,
    issuedAt: issuedAtOf(envelope.issuedAt),
  };
  return { ok: true, request };
};

/**
 * The issue time, should Salesforce ever send one (its envelope has `null`, "for internal use
 * only"), in seconds or milliseconds since the epoch, told apart by size (1e11 seconds is the
 * year 5138).
 */
function issuedAtOf(issuedAt: number | null | undefined): Date | null {
  if (issuedAt === null || issuedAt === undefined) return null;
  return new Date(issuedAt < 1e11 ? issuedAt * 1000 : issuedAt);
}

const MY_DOMAIN = /^([a-z0-9-]+?)(--[a-z0-9]+)?(\.sandbox)?\.my\.salesforce\.com$/i;

/**
 * The origins that may frame the console for an org, and post to open it: its My Domain and the
 * Lightning and Visualforce hosts derived from it (`acme.my.salesforce.com` →
 * `acme.lightning.force.com`, `acme--c.vf.force.com`; sandboxes keep their `--name` and
 * `.sandbox`). An instance URL that is not a My Domain (a local sandbox) allows only itself.
 */
export function orgFrameAncestors(instanceUrl: string): string[] {
  const url = new URL(instanceUrl);
  const match = MY_DOMAIN.exec(url.hostname);
  if (!match) return [url.origin];
  const [, name, sandboxName = '', sandbox = ''] = match;
  const base = `${name}${sandboxName}`;
  return [
    `https://${base}${sandbox}.my.salesforce.com`,
    `https://${base}${sandbox}.lightning.force.com`,
    `https://${base}--c${sandbox}.vf.force.com`,
  ];
}
