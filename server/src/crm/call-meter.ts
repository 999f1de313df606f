import { AsyncLocalStorage } from 'node:async_hooks';

/** Calls made to the CRM while some work ran (issue 21's budgets count them per agent). */
export interface CrmCallMeter {
  calls: number;
  /** Stores each call before it is sent, for a budget that must see the calls of requests still running. */
  beforeCall?: () => Promise<void>;
}

const current = new AsyncLocalStorage<CrmCallMeter>();

/** Runs `work` so that every CRM call it makes, however deep and retries included, adds one to `meter`. */
export function meteringCrmCalls<T>(meter: CrmCallMeter, work: () => Promise<T>): Promise<T> {
  return current.run(meter, work);
}

/** Called by an adapter just before each request it sends to the CRM, which waits for it. */
export async function countCrmCall(): Promise<void> {
  const meter = current.getStore();
  if (!meter) return;
  meter.calls += 1;
  await meter.beforeCall?.();
}
