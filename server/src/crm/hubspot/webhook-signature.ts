import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SignatureCheck, SignedRequest } from '../port.ts';

/** HubSpot refuses to count on a request older than this; so do we (replays of an old signed body). */
export const MAX_SIGNATURE_AGE_MS = 5 * 60_000;

/**
 * HubSpot's v3 request signature: base64(HMAC-SHA256(client secret, method + URI + body + timestamp)),
 * with a timestamp in milliseconds (developers.hubspot.com/docs/api/webhooks/validating-requests).
 * Checked on the raw bytes: re-serialised JSON would not be what HubSpot signed. Any of
 * `secrets` may match (the app's secret, or the secret of the workspace the events name).
 */
export function checkV3Signature(request: SignedRequest, secrets: readonly string[], now: Date): SignatureCheck {
  if (!request.signature || !request.timestamp) {
    return {
      ok: false,
      code: 'WEBHOOK_SIGNATURE_MISSING',
      message: 'The request carries no X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp headers.',
    };
  }
  // Digits only: Number() would also read " 17e11", "0x…" or "1.0", and the signature covers the header as written (issue 17).
  if (!/^[0-9]{1,15}$/.test(request.timestamp))
    return {
      ok: false,
      code: 'WEBHOOK_SIGNATURE_INVALID',
      message: 'X-HubSpot-Request-Timestamp must be a whole number of milliseconds, digits only.',
    };
  const timestamp = Number(request.timestamp);
  // Too far in the future is refused too: a clock that far off cannot vouch for freshness.
  if (Math.abs(now.getTime() - timestamp) > MAX_SIGNATURE_AGE_MS) {
    return {
      ok: false,
      code: 'WEBHOOK_TIMESTAMP_STALE',
      message:
        'The request timestamp is more than five minutes from now; a replayed or delayed request is not accepted.',
    };
  }
  const given = Buffer.from(request.signature, 'base64');
  const uri = decodeSignedUri(request.url);
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret)
      .update(`${request.method}${uri}`)
      .update(request.rawBody)
      .update(request.timestamp)
      .digest();
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return {
    ok: false,
    code: 'WEBHOOK_SIGNATURE_INVALID',
    message: 'The request signature does not match its method, URI, body and timestamp under the client secret.',
  };
}

/** HubSpot decodes these escapes in the URI before signing (the table in its validation guide). */
const DECODED_ESCAPES: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export function decodeSignedUri(url: string): string {
  return url.replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (encoded) => DECODED_ESCAPES[encoded.toUpperCase()] ?? encoded,
  );
}
