import { AsyncLocalStorage } from 'node:async_hooks';

/** Calls made to the CRM while some work ran (issue 21's budgets count them per agent). */
export interface CrmCallMeter {
  calls: number;
}

const current = new AsyncLocalStorage<CrmCallMeter>();

/** Runs `work` so that every CRM call it makes, however deep and retries included, adds one to `meter`. */
export function meteringCrmCalls<T>(meter: CrmCallMeter, work: () => Promise<T>): Promise<T> {
  return current.run(meter, work);
}

/** Called by an adapter just before each request it sends to the CRM. */
export function countCrmCall(): void {
  const meter = current.getStore();
  if (meter) meter.calls += 1;
}
