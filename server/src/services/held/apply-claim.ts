import { renewApplyClaims } from '../../store/approval-apply-store.ts';
import { keepRenewing, type ServiceDeps } from '../common/index.ts';

/**
 * A writer's claim on the approvals it took, kept while it works (renewed as a change set's lease
 * is), so a live writer waiting on a slow CRM (a 429's Retry-After, a long read) keeps what it
 * took, and only a dead writer's claim lapses for another to take. Before it writes or settles, a
 * writer confirms the claim: what another writer took meanwhile is neither written nor settled
 * twice. Renewals run one after another, each moving the claim from the time the one before set.
 */
export interface ApplyClaim {
  /** Of `ids`, those this writer still holds, its claim renewed now. */
  confirm(ids: readonly string[]): Promise<Set<string>>;
  stop(): void;
}

export function keepApplyClaim(
  deps: ServiceDeps,
  input: { workspaceId: string; ids: readonly string[]; claimedAt: Date; claimMs: number },
): ApplyClaim {
  let held = input.claimedAt;
  let holding: ReadonlySet<string> = new Set(input.ids);
  let latest: Promise<unknown> = Promise.resolve();
  // Held while any approval is: one settled or taken by another writer drops out of `holding`.
  const lease = keepRenewing(input.claimMs, () => {
    const renewal = latest.then(async () => {
      const now = deps.clock();
      holding = await renewApplyClaims(deps.db, input.workspaceId, [...holding], held, now);
      held = now;
      return holding.size > 0;
    });
    // A renewal that failed (the database unreachable) leaves the claim as it was: the next one tries again.
    latest = renewal.catch(() => undefined);
    return renewal;
  });
  return {
    async confirm(ids) {
      // Unconfirmed counts as lost: the approval is left claimed, and taken again once the claim lapses.
      const alive = await lease.confirm().catch(() => false);
      return new Set(alive ? ids.filter((id) => holding.has(id)) : []);
    },
    stop: () => lease.stop(),
  };
}
