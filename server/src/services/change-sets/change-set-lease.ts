import { renewChangeSetLease } from '../../store/change-store.ts';
import { type ChangeSetLease, type ServiceDeps, leaseHolderName } from '../common/index.ts';

export const DEFAULT_CHANGE_SET_LEASE_MS = 30_000;

// Deps built without a lease (tests, tools) still name this process uniquely.
const FALLBACK_HOLDER = leaseHolderName();

export function changeSetLeaseOf(deps: ServiceDeps): ChangeSetLease {
  return deps.changeSetLease ?? { holder: FALLBACK_HOLDER, leaseMs: DEFAULT_CHANGE_SET_LEASE_MS };
}

export interface HeldLease {
  /** True once a renewal found the change set taken over (this process stalled past its lease) or finished. */
  lost(): boolean;
  /**
   * Renews now and says whether the lease is still ours: asked right before an action another
   * holder must never repeat (a CRM write), since the timer's last answer may be a lease old.
   */
  confirm(): Promise<boolean>;
  stop(): void;
}

/**
 * Renews a change set's lease a few times per lease period while its writes run, so a live
 * writer waiting on the CRM's rate limit keeps it, and a dead one stops renewing: the lease
 * lapses and recovery (issue 17) takes the change set over.
 */
export function keepChangeSetLease(deps: ServiceDeps, changeSetId: string): HeldLease {
  const { holder, leaseMs } = changeSetLeaseOf(deps);
  return keepRenewing(leaseMs, () =>
    renewChangeSetLease(deps.db, { id: changeSetId, holder, until: new Date(deps.clock().getTime() + leaseMs) }),
  );
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
