import { errorLogField, type Logger } from '../logger.ts';

export interface PollingLoop {
  /** Start the next round now rather than at the next poll. */
  wake(): void;
  /** Finishes the round in hand, then stops; what is left stays stored for the next start. */
  stop(): Promise<void>;
}

/**
 * Runs `round` again at once while it finds work, else after `pollMs` or a `wake`. The database
 * rows are the queue (claimed with SKIP LOCKED or leases by each round), so polling is only the
 * backstop for work stored by another server or left by a crash, and any number of servers may
 * run the same loop.
 */
export function startPollingLoop(options: {
  name: string;
  round: () => Promise<number>;
  logger: Logger;
  pollMs: number;
}): PollingLoop {
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  const sleep = () =>
    new Promise<void>((resolve) => {
      if (woken || stopped) return resolve();
      const timer = setTimeout(resolve, options.pollMs);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const loop = (async () => {
    while (!stopped) {
      woken = false;
      let done = 0;
      try {
        done = await options.round();
      } catch (error) {
        // The round's claims roll back or lapse; its work is taken again on a later round.
        options.logger.error(`${options.name} failed`, { error: errorLogField(error) });
      }
      if (done === 0 && !stopped) await sleep();
      wakeUp = undefined;
    }
  })();
  return {
    wake() {
      woken = true;
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
    },
  };
}
