import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { InFlight } from '../../server/src/store/in-flight.ts';

describe('statements in flight', () => {
  it('holds a failure that comes before anyone waits, and rethrows it once settled', async () => {
    const inFlight = new InFlight();
    inFlight.send(Promise.reject(new Error('duplicate key')));
    inFlight.send(Promise.resolve());
    await nextTurn(); // an unhandled rejection would be reported here and fail the run

    expect(inFlight.count).toBe(2);
    await expect(inFlight.settled()).rejects.toThrow('duplicate key');
    expect(inFlight.count).toBe(0);
  });

  it('settles once every statement has finished', async () => {
    const inFlight = new InFlight();
    const finished: number[] = [];
    for (const ms of [30, 10, 20])
      inFlight.send(new Promise((resolve) => setTimeout(resolve, ms)).then(() => finished.push(ms)));
    await inFlight.settled();
    expect(finished.sort()).toEqual([10, 20, 30]);
  });
});
