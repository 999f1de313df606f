/**
 * Whether a signed request that opens the console inside the CRM (issue 20) may start a session,
 * beyond its signature: the CRM's signature holds for ever, so these say when it is too old and
 * where it was posted from.
 */

/** A signed request that names when it was issued is refused past this age (the CRM's own usually names none). */
export const SIGNED_REQUEST_MAX_AGE_MS = 15 * 60_000;
/** How far ahead of our clock an issue time may be, for clocks that differ. */
export const SIGNED_REQUEST_CLOCK_SKEW_MS = 5 * 60_000;

/** Whether an issue time, when the request names one, is too old (or too far ahead) to be taken. */
export function signedRequestStale(issuedAt: Date | null, now: Date): boolean {
  if (issuedAt === null) return false;
  const age = now.getTime() - issuedAt.getTime();
  // Written so that a time that is no time (NaN) is stale too.
  return !(age <= SIGNED_REQUEST_MAX_AGE_MS && age >= -SIGNED_REQUEST_CLOCK_SKEW_MS);
}

/**
 * Where a browser says a POST came from: `Origin`, which every browser sends on a POST, and
 * `Sec-Fetch-Site`. Absent both (a client that is no browser), nothing is refused here: such a
 * client cannot plant a session in someone's browser, and the CRM's check of the user's token
 * refuses a replay. Present, the origin must be one of the account's own (`null`, an opaque
 * origin, is none of them). A browser that calls the POST cross-site yet withholds its origin
 * is refused too.
 */
export type EmbeddedPostOrigin = { ok: true } | { ok: false; reason: 'origin_not_allowed' | 'origin_withheld' };

export function embeddedPostOrigin(
  headers: { origin: string | undefined; fetchSite: string | undefined },
  accountOrigins: readonly string[],
): EmbeddedPostOrigin {
  if (headers.origin !== undefined)
    return accountOrigins.includes(headers.origin) ? { ok: true } : { ok: false, reason: 'origin_not_allowed' };
  if (headers.fetchSite === 'cross-site' || headers.fetchSite === 'same-site')
    return { ok: false, reason: 'origin_withheld' };
  return { ok: true };
}
