import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PACING_MARGIN_MS, pacer } from '../../server/src/crm/hubspot/pacing.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Makes each call at its offset (ms, ascending) and returns when each one was let through, from the first offset's zero. */
async function startTimes(limit: { maxCalls: number; intervalMs: number }, arrivals: number[]): Promise<number[]> {
  const zero = Date.now();
  const starts: number[] = [];
  const paced = pacer(limit)(async (index: number) => {
    starts[index] = Date.now() - zero;
  });
  const done: Promise<void>[] = [];
  let clock = 0;
  for (const [index, arrival] of arrivals.entries()) {
    await vi.advanceTimersByTimeAsync(arrival - clock);
    clock = arrival;
    done.push(paced(index));
  }
  await vi.advanceTimersByTimeAsync(limit.intervalMs * (arrivals.length + 2));
  await Promise.all(done);
  return starts;
}

describe('pacing calls to HubSpot’s rolling window', () => {
  const limit = { maxCalls: 4, intervalMs: 1000 };
  const window = limit.intervalMs + PACING_MARGIN_MS;

  it('lets a call go once the call maxCalls before it has left the window, so a burst’s pattern repeats one window later', async () => {
    const starts = await startTimes(limit, [0, 0, 300, 300, 400, 400, 400, 400]);

    // Even spacing once calls bunch up would have let the last four go at 1250, 1563, 1876 and 2189.
    expect(starts).toEqual([0, 0, 300, 300, window, window, 300 + window, 300 + window]);
  });

  it('never lets more than maxCalls start within one window, and never holds a call longer than that needs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 30 }),
        async (offsets) => {
          const arrivals = [...offsets].sort((a, b) => a - b);
          const starts = await startTimes(limit, arrivals);
          const ordered = [...starts].sort((a, b) => a - b);
          for (let i = limit.maxCalls; i < ordered.length; i += 1)
            expect(ordered[i]! - ordered[i - limit.maxCalls]!).toBeGreaterThanOrEqual(window);
          for (const [i, start] of starts.entries()) {
            // The earliest moment the window admits call i: its arrival, or once the call maxCalls before it has left.
            const earliest = Math.max(arrivals[i]!, i >= limit.maxCalls ? ordered[i - limit.maxCalls]! + window : 0);
            expect(start).toBe(earliest);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
