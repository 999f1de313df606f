import os from 'node:os';
import { randomUUID } from 'node:crypto';

/** Names this process in a lease (host, pid, random): rollbacks and change sets are held under it. */
export function leaseHolderName(): string {
  return `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

export interface HeldLease {
  /** True once a renewal found the work taken over (this process stalled past its lease) or finished. */
  lost(): boolean;
  /**
   * Renews now and says whether the lease is still ours: asked right before an action another
   * holder must never repeat (a CRM write), since the timer's last answer may be a lease old.
   */
  confirm(): Promise<boolean>;
  stop(): void;
}

/** Calls `renew` a few times per lease period until stopped, or until it says the lease is no longer ours. */
export function keepRenewing(leaseMs: number, renew: () => Promise<boolean>): HeldLease {
  let lost = false;
  const timer = setInterval(
    () => {
      renew()
        .then((renewed) => {
          if (renewed) return;
          lost = true;
          clearInterval(timer);
        })
        .catch(() => undefined); // a missed renewal only shortens the lease; the next one tries again
    },
    Math.max(leaseMs / 3, 50),
  );
  timer.unref();
  return {
    lost: () => lost,
    confirm: async () => {
      if (lost) return false;
      if (await renew()) return true;
      lost = true;
      clearInterval(timer);
      return false;
    },
    stop: () => clearInterval(timer),
  };
}
