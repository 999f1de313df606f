import pThrottle from 'p-throttle';

/**
 * HubSpot's window is rolling: any `intervalMs` may hold at most `maxCalls` calls. A call waits
 * only until the call `maxCalls` before it has left the window, so calls run back to back when
 * under the limit, and after a burst they follow the burst's own pattern one window later.
 * p-throttle's time-based sliding window does exactly that; it uses it when given a weight (its
 * plain strict mode also spaces calls evenly once they bunch up, which stretched a rollback's
 * second window from the pace it could keep to an even 10 calls a second). The small margin
 * absorbs requests that arrive closer together than they left; a 429 that still slips through
 * is waited out by withRetry.
 */
export const PACING_MARGIN_MS = 250;

export interface RateLimit {
  maxCalls: number;
  intervalMs: number;
}

/** Wraps an api-client call so it waits its turn in the rolling window. */
export type Paced = <F extends (...args: never[]) => unknown>(call: F) => F;

export function pacer(rateLimit: RateLimit | undefined): Paced {
  if (rateLimit === undefined) return (call) => call;
  const throttle = pThrottle({
    limit: rateLimit.maxCalls,
    interval: rateLimit.intervalMs + PACING_MARGIN_MS,
    strict: true,
    weight: () => 1,
  });
  return (call) => throttle(call) as unknown as typeof call;
}
