import { type AlertDelivery, deliverDueAlert, evaluateDueAlertRule } from '../../server/src/services/alerts/index.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';

/** Where the tests' alerts link to. */
export const ALERT_CONSOLE_URL = 'https://governance.example.com';

const evaluation = {
  holder: 'server-a',
  leaseMs: 30_000,
  consoleUrl: ALERT_CONSOLE_URL,
  checkEveryMs: 60_000,
  eventsPerRound: 5,
};

/** The delivery job's settings, as a server would pass them: an alert is given up after three attempts. */
export const ALERT_DELIVERY: AlertDelivery = {
  holder: 'server-a',
  leaseMs: 30_000,
  requestTimeoutMs: 5_000,
  retryMaxMs: 60_000,
  maxAttempts: 3,
};

/** Runs both alert jobs as the server would, round after round, until neither has anything due. */
export async function runAlertJobs(deps: ServiceDeps): Promise<void> {
  for (;;) {
    const evaluated = await evaluateDueAlertRule(deps, evaluation);
    const delivered = await deliverDueAlert(deps, ALERT_DELIVERY);
    if (evaluated === undefined && !delivered) return;
  }
}
