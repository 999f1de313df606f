/**
 * QA sampling of `auto`-applied writes (issue 5), pure. Deterministic per change id: the same
 * change is always in or out of the sample, whoever asks and however often.
 */
import type { QaSettings } from '../../../shared/policy.ts';

const DAY_MS = 86_400_000;

/** The share of a role's auto writes to sample now: the new-agent rate while the agent is younger than its days. */
export function sampleRate(
  settings: QaSettings | undefined,
  input: { role: string; agentCreatedAt: Date; now: Date },
): number {
  const sampling = settings?.sampling[input.role as keyof QaSettings['sampling']];
  if (!sampling) return 0;
  const young =
    sampling.newAgent && input.now.getTime() - input.agentCreatedAt.getTime() < sampling.newAgent.days * DAY_MS;
  return young && sampling.newAgent ? sampling.newAgent.rate : sampling.rate;
}

/** A change is sampled when its id hashes (FNV-1a, 32 bits) below the rate's share of the range. */
export function isSampled(changeId: string, rate: number): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  let hash = 0x811c9dc5;
  for (let i = 0; i < changeId.length; i += 1) {
    hash ^= changeId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 0x1_0000_0000 < rate;
}

export interface ReviewCounts {
  agentId: string;
  open: number;
  correct: number;
  wrong: number;
}

/** Measured error rate: wrong among reviewed; null until something was reviewed. */
export function errorRate(counts: ReviewCounts): number | null {
  const reviewed = counts.correct + counts.wrong;
  return reviewed === 0 ? null : counts.wrong / reviewed;
}
