import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { newId } from '../../server/src/services/common/index.ts';

describe('newId', () => {
  it('makes valid, distinct uuid v7 ids that sort in the order they were made, across refills of the random pool', () => {
    // 5,000 ids span several pool refills (1,024 ids each) and many ids per millisecond.
    const ids = Array.from({ length: 5_000 }, () => newId());
    expect(ids.every((id) => validate(id) && version(id) === 7)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('starts each id with the time it was made', () => {
    const before = Date.now();
    const id = newId();
    const msecs = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    // A burst may borrow the next millisecond when its counter wraps, never more.
    expect(msecs).toBeGreaterThanOrEqual(before);
    expect(msecs).toBeLessThanOrEqual(Date.now() + 1);
  });
});
