import type { MonitoringSettings } from '../../../shared/policy.ts';

export const KILL_TRIGGERS = ['bypass_writes', 'write_velocity', 'rejection_rate'] as const;
export type KillTrigger = (typeof KILL_TRIGGERS)[number];

/** A count seen over the trigger's window: per agent, or (bypass writes nobody is named for) per source. */
export interface TriggerObservation {
  trigger: KillTrigger;
  agentId: string | null;
  sourceId?: string | null;
  count: number;
  /** rejection_rate: how many proposals of the batch people decided (`count` are the rejected ones). */
  decided?: number;
  batchId?: string;
}

export interface TrippedTrigger {
  trigger: KillTrigger;
  scope: 'agent' | 'workspace';
  target: string | undefined;
  threshold: number;
  observed: number;
  reason: string;
}

/**
 * Which kill switches the thresholds say to engage (issue 6). Pure, so a drill runs the same
 * rule over synthetic counts. A bypass no agent is named for stops the whole workspace: an
 * unknown writer is the incident RevOps playbooks treat as the worst.
 */
export function tripKillTriggers(
  settings: MonitoringSettings['killTriggers'],
  observations: readonly TriggerObservation[],
): TrippedTrigger[] {
  const tripped: TrippedTrigger[] = [];
  for (const observation of observations) {
    if (
      observation.trigger === 'bypass_writes' &&
      settings.bypassWrites &&
      observation.count > settings.bypassWrites.threshold
    ) {
      const { threshold, windowMinutes } = settings.bypassWrites;
      const who = observation.agentId
        ? `agent ${observation.agentId}`
        : `an integration no agent is named for (source ${observation.sourceId ?? 'unknown'})`;
      tripped.push({
        trigger: 'bypass_writes',
        scope: observation.agentId ? 'agent' : 'workspace',
        target: observation.agentId ?? undefined,
        threshold,
        observed: observation.count,
        reason: `Kill trigger bypass_writes: ${observation.count} CRM writes around the governance API by ${who} in ${windowMinutes} min (threshold ${threshold}).`,
      });
    }
    if (
      observation.trigger === 'write_velocity' &&
      settings.writeVelocity &&
      observation.agentId &&
      observation.count > settings.writeVelocity.perMinute
    ) {
      const threshold = settings.writeVelocity.perMinute;
      tripped.push({
        trigger: 'write_velocity',
        scope: 'agent',
        target: observation.agentId,
        threshold,
        observed: observation.count,
        reason: `Kill trigger write_velocity: agent ${observation.agentId} wrote ${observation.count} values in the last minute (threshold ${threshold}/min).`,
      });
    }
    const rejection = settings.rejectionRate;
    if (
      observation.trigger === 'rejection_rate' &&
      rejection &&
      observation.agentId &&
      observation.decided !== undefined &&
      observation.decided >= rejection.minDecided
    ) {
      const rate = observation.count / observation.decided;
      if (rate > rejection.threshold) {
        tripped.push({
          trigger: 'rejection_rate',
          scope: 'agent',
          target: observation.agentId,
          threshold: rejection.threshold,
          observed: rate,
          reason: `Kill trigger rejection_rate: people rejected ${observation.count} of ${observation.decided} decided proposals of agent ${observation.agentId} in batch ${observation.batchId ?? '(unknown)'} (${Math.round(rate * 100)}%, threshold ${Math.round(rejection.threshold * 100)}%).`,
        });
      }
    }
  }
  return tripped;
}
