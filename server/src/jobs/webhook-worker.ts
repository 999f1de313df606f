import type { Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/deps.ts';
import { processWebhookEvents, type ProcessOptions } from '../services/process-webhook-events.ts';

export interface WebhookWorker {
  /** Start now rather than at the next poll (the intake calls it after storing events). */
  wake(): void;
  /** Finishes the batch in hand, then stops; unprocessed events stay stored for the next start. */
  stop(): Promise<void>;
}

/**
 * Processes stored webhook events until stopped. Polling is the backstop (events stored by
 * another server, or left by a crash); `wake` makes the usual case prompt. Any number of these
 * may run against one Postgres: claims skip rows another worker holds.
 */
export function startWebhookWorker(deps: ServiceDeps, options: ProcessOptions & { logger: Logger; pollMs?: number }): WebhookWorker {
  const pollMs = options.pollMs ?? 1_000;
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  const sleep = () =>
    new Promise<void>((resolve) => {
      if (woken || stopped) return resolve();
      const timer = setTimeout(resolve, pollMs);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const loop = (async () => {
    while (!stopped) {
      woken = false;
      let processed = 0;
      try {
        processed = await processWebhookEvents(deps, options);
      } catch (error) {
        // The batch rolled back; its events are taken again on the next round.
        options.logger.error('webhook processing failed', { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      }
      if (processed === 0 && !stopped) await sleep();
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
