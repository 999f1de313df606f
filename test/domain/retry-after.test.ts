import { describe, expect, it } from 'vitest';
import { retryAfterMs, retryDelayMs } from '../../server/src/domain/siem-delivery.ts';

describe('a receiver’s Retry-After', () => {
  const now = new Date('2026-12-07T12:00:00.000Z');

  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Mon, 07 Dec 2026 12:01:30 GMT', 90_000],
    // A date already past asks for no wait.
    ['Mon, 07 Dec 2026 11:00:00 GMT', 0],
  ])('reads %j as %i ms', (header, ms) => {
    expect(retryAfterMs(header, now)).toBe(ms);
  });

  it.each([[undefined], [''], ['soon'], ['-5'], ['1.5'], ['99999999999']])(
    'reads %j as no ask, so the backoff alone decides',
    (header) => {
      expect(retryAfterMs(header, now)).toBeUndefined();
    },
  );

  it('waits the longer of the backoff and the ask, never past the longest wait', () => {
    expect(retryDelayMs(3, 60_000, 1_000)).toBe(4_000);
    expect(retryDelayMs(1, 60_000, 30_000)).toBe(30_000);
    expect(retryDelayMs(1, 60_000, 86_400_000)).toBe(60_000);
  });
});
