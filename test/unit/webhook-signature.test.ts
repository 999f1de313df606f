import { Signature } from '@hubspot/api-client';
import { describe, expect, it } from 'vitest';
import { checkV3Signature, decodeSignedUri } from '../../server/src/crm/hubspot/webhook-signature.ts';

const now = new Date('2026-11-23T10:00:00Z');
const timestamp = now.getTime() - 1_000;
const sign = (url: string, body: string) =>
  Signature.getSignature('POST', 'v3', { clientSecret: 'secret', requestBody: body, url, timestamp, signature: '' });

describe('HubSpot v3 signature check', () => {
  it('accepts what HubSpot’s own helper signs over the URI with its listed escapes decoded', () => {
    const body = '[{"eventId":1}]';
    const signature = sign('https://example.com/webhooks/hubspot?next=/a:b', body);
    const check = checkV3Signature(
      {
        method: 'POST',
        url: 'https://example.com/webhooks/hubspot?next=%2Fa%3Ab',
        rawBody: Buffer.from(body),
        signature,
        timestamp: String(timestamp),
      },
      ['secret'],
      now,
    );
    expect(check).toEqual({ ok: true });
  });

  it('checks the raw bytes, so the same JSON spaced differently does not verify', () => {
    const signature = sign('https://example.com/w', '[1, 2]');
    const check = checkV3Signature(
      {
        method: 'POST',
        url: 'https://example.com/w',
        rawBody: Buffer.from('[1,2]'),
        signature,
        timestamp: String(timestamp),
      },
      ['secret'],
      now,
    );
    expect(check).toMatchObject({ ok: false, code: 'WEBHOOK_SIGNATURE_INVALID' });
  });

  it.each([
    ['five minutes and one second old', -5 * 60_000 - 1_000],
    ['six minutes in the future', 6 * 60_000],
  ])('refuses a timestamp %s as stale', (_name, offset) => {
    const at = now.getTime() + offset;
    const signature = Signature.getSignature('POST', 'v3', {
      clientSecret: 'secret',
      requestBody: '[]',
      url: 'https://example.com/w',
      timestamp: at,
      signature: '',
    });
    const check = checkV3Signature(
      { method: 'POST', url: 'https://example.com/w', rawBody: Buffer.from('[]'), signature, timestamp: String(at) },
      ['secret'],
      now,
    );
    expect(check).toMatchObject({ ok: false, code: 'WEBHOOK_TIMESTAMP_STALE' });
  });

  it('leaves escapes HubSpot does not list alone', () => {
    expect(decodeSignedUri('https://x.test/a%20b%3a')).toBe('https://x.test/a%20b:');
  });
});
