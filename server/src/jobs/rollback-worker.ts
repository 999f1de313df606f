import { errorLogField, type Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { claimAndRunRollback, DEFAULT_LEASE_MS, leaseHolderName } from '../services/rollbacks/index.ts';

export interface RollbackWorker {
  /** Lets the rollback in hand finish its current step, then stops; the lease runs out and another process resumes it. */
  stop(): Promise<void>;
}

/**
 * Runs rollbacks (issue 7) until stopped: claims one whose lease is free (new, resumed, or left
 * by a process that died), works it to the end, then looks again. Polling is the only wake-up:
 * a rollback is started by an admin, rarely, and a second's delay is nothing beside its length.
 */
export function startRollbackWorker(
  deps: ServiceDeps,
  options: { logger: Logger; pollMs?: number; leaseMs?: number },
): RollbackWorker {
  const pollMs = options.pollMs ?? 1_000;
  const holder = leaseHolderName();
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      let result = 'none';
      try {
        result = await claimAndRunRollback(deps, {
          holder,
          leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
          stopping: () => stopped,
        });
      } catch (error) {
        // Items keep their state; the lease runs out and the rollback is taken again.
        options.logger.error('rollback failed', { error: errorLogField(error) });
      }
      if (result === 'none' && !stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
    },
  };
}
