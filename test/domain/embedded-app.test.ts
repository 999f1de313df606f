import { describe, expect, it } from 'vitest';
import {
  embeddedPostOrigin,
  SIGNED_REQUEST_CLOCK_SKEW_MS,
  SIGNED_REQUEST_MAX_AGE_MS,
  signedRequestStale,
} from '../../server/src/domain/embedded-app.ts';

/** The console opened inside the CRM (issue 20): when a signed request is too old, and where it may be posted from. */

const ORG = ['https://acme.my.salesforce.com', 'https://acme.lightning.force.com', 'https://acme--c.vf.force.com'];

describe('embeddedPostOrigin', () => {
  it('takes a post from the account’s own pages', () => {
    for (const origin of ORG)
      expect(embeddedPostOrigin({ origin, fetchSite: 'cross-site' }, ORG)).toEqual({ ok: true });
  });

  it('refuses any other origin, an opaque one (null) and a look-alike included', () => {
    for (const origin of [
      'https://evil.example',
      'null',
      'https://acme.lightning.force.com.evil.example',
      'http://acme.my.salesforce.com',
    ])
      expect(embeddedPostOrigin({ origin, fetchSite: undefined }, ORG)).toEqual({
        ok: false,
        reason: 'origin_not_allowed',
      });
  });

  it('takes a post with no origin from a client that is no browser, and refuses a browser’s cross-site one withholding it', () => {
    expect(embeddedPostOrigin({ origin: undefined, fetchSite: undefined }, ORG)).toEqual({ ok: true });
    expect(embeddedPostOrigin({ origin: undefined, fetchSite: 'none' }, ORG)).toEqual({ ok: true });
    for (const fetchSite of ['cross-site', 'same-site'])
      expect(embeddedPostOrigin({ origin: undefined, fetchSite }, ORG)).toEqual({
        ok: false,
        reason: 'origin_withheld',
      });
  });
});

describe('signedRequestStale', () => {
  const now = new Date('2026-12-06T12:00:00Z');
  const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

  it('never refuses a request that names no issue time, as Salesforce’s do not', () => {
    expect(signedRequestStale(null, now)).toBe(false);
  });

  it('takes a recent one, refuses an old one, one too far ahead, and one that is no time', () => {
    expect(signedRequestStale(at(-SIGNED_REQUEST_MAX_AGE_MS), now)).toBe(false);
    expect(signedRequestStale(at(-SIGNED_REQUEST_MAX_AGE_MS - 1), now)).toBe(true);
    expect(signedRequestStale(at(SIGNED_REQUEST_CLOCK_SKEW_MS), now)).toBe(false);
    expect(signedRequestStale(at(SIGNED_REQUEST_CLOCK_SKEW_MS + 1), now)).toBe(true);
    expect(signedRequestStale(new Date(Number.NaN), now)).toBe(true);
  });
});
