import { renewChangeSetLease } from '../../store/change-store.ts';
import {
  type ChangeSetLease,
  type HeldLease,
  keepRenewing,
  type ServiceDeps,
  leaseHolderName,
} from '../common/index.ts';

export const DEFAULT_CHANGE_SET_LEASE_MS = 30_000;

// Deps built without a lease (tests, tools) still name this process uniquely.
const FALLBACK_HOLDER = leaseHolderName();

export function changeSetLeaseOf(deps: ServiceDeps): ChangeSetLease {
  return deps.changeSetLease ?? { holder: FALLBACK_HOLDER, leaseMs: DEFAULT_CHANGE_SET_LEASE_MS };
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
