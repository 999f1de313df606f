import { and, asc, eq } from 'drizzle-orm';
import { deliverDueAlert, evaluateDueAlertRule } from '../../server/src/services/alerts/index.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';

// What the tests of a connection the CRM refuses (issue 20) share, Salesforce's and HubSpot's.

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads until `done`, for work the adapter starts without being awaited (its refusal's recording). */
export async function until<T>(read: () => Promise<T> | T, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await read();
    if (done(value)) return value;
    if (i > 600) throw new Error(`never happened; last: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

/** The workspace's `crm.connection_refused` events, oldest first. */
export const refusals = (deps: Pick<ServiceDeps, 'db'>, workspaceId: string) =>
  deps.db
    .select({ actor: auditEvents.actor, data: auditEvents.data })
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, workspaceId), eq(auditEvents.type, 'crm.connection_refused')))
    .orderBy(asc(auditEvents.seq));

/** Both alert jobs, as a server runs them, until neither has anything due. */
export async function runAlerts(deps: ServiceDeps): Promise<void> {
  for (;;) {
    const evaluated = await evaluateDueAlertRule(deps, {
      holder: 'server-a',
      leaseMs: 30_000,
      consoleUrl: 'https://governance.example.com',
      checkEveryMs: 60_000,
      eventsPerRound: 100,
    });
    const delivered = await deliverDueAlert(deps, {
      holder: 'server-a',
      leaseMs: 30_000,
      requestTimeoutMs: 5_000,
      retryMaxMs: 60_000,
      maxAttempts: 3,
    });
    if (evaluated === undefined && !delivered) return;
  }
}
