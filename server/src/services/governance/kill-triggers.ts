import type { KillTriggerDrillResult } from '../../../../shared/admin-api.ts';
import type { MonitoringSettings } from '../../../../shared/policy.ts';
import {
  tripKillTriggers,
  type KillTrigger,
  type TriggerObservation,
  type TrippedTrigger,
} from '../../domain/kill-triggers.ts';
import { batchDecisionCounts } from '../../store/approval-store.ts';
import { countFieldChanges } from '../../store/field-history-store.ts';
import { findKillSwitch } from '../../store/kill-switch-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { setKillSwitch } from './kill-switches.ts';
import { TRIGGER_ACTOR } from './safe-release.ts';
import { activePolicy, policyInForce } from './policies.ts';

export { TRIGGER_ACTOR };

/**
 * Counts what the thresholds watch (from the field history the webhooks fill) and engages the
 * kill switches they trip, through the same audited service an admin uses. A switch already
 * engaged is left as it is, so a storm of events audits one engagement.
 */
export async function checkKillTriggers(
  deps: ServiceDeps,
  workspaceId: string,
  settings: MonitoringSettings['killTriggers'],
): Promise<TrippedTrigger[]> {
  const now = deps.clock();
  const observations: TriggerObservation[] = [];
  if (settings.bypassWrites) {
    const since = new Date(now.getTime() - settings.bypassWrites.windowMinutes * 60_000);
    for (const row of await countFieldChanges(deps.db, { workspaceId, kind: 'bypass', since }))
      observations.push({ trigger: 'bypass_writes', ...row });
  }
  if (settings.writeVelocity) {
    const since = new Date(now.getTime() - 60_000);
    const perAgent = new Map<string, number>();
    for (const row of await countFieldChanges(deps.db, { workspaceId, kind: 'own_write', since })) {
      if (row.agentId) perAgent.set(row.agentId, (perAgent.get(row.agentId) ?? 0) + row.count);
    }
    for (const [agentId, count] of perAgent) observations.push({ trigger: 'write_velocity', agentId, count });
  }
  return engageTripped(deps, workspaceId, tripKillTriggers(settings, mergeUnattributed(observations)));
}

/**
 * After people decided proposals of these agents' batches: engages an agent's kill switch when
 * the share they rejected in one batch passes the policy's rejection_rate threshold.
 */
export async function checkRejectionRate(
  deps: ServiceDeps,
  workspaceId: string,
  batches: readonly { agentId: string; batchId: string }[],
): Promise<TrippedTrigger[]> {
  const settings = (await policyInForce(deps.db, workspaceId))?.monitoring?.killTriggers;
  if (!settings?.rejectionRate) return [];
  const observations: TriggerObservation[] = [];
  const seen = new Set<string>();
  for (const { agentId, batchId } of batches) {
    if (seen.has(`${agentId}:${batchId}`)) continue;
    seen.add(`${agentId}:${batchId}`);
    const counts = await batchDecisionCounts(deps.db, workspaceId, agentId, batchId);
    observations.push({ trigger: 'rejection_rate', agentId, batchId, count: counts.rejected, decided: counts.decided });
  }
  return engageTripped(deps, workspaceId, tripKillTriggers(settings, observations));
}

/** Engages what tripped through the audited admin service; a switch already engaged is left as it is. */
async function engageTripped(
  deps: ServiceDeps,
  workspaceId: string,
  tripped: TrippedTrigger[],
): Promise<TrippedTrigger[]> {
  for (const trip of tripped) {
    const current = await findKillSwitch(deps.db, { workspaceId, scope: trip.scope, target: trip.target ?? '' });
    if (current?.engaged) continue;
    await setKillSwitch(
      deps,
      workspaceId,
      { scope: trip.scope, target: trip.target, engaged: true, reason: trip.reason },
      TRIGGER_ACTOR,
    );
  }
  return tripped;
}

// Bypass writes nobody is named for all stop the same (workspace) switch, so they count together.
function mergeUnattributed(observations: TriggerObservation[]): TriggerObservation[] {
  const attributed = observations.filter((o) => o.trigger !== 'bypass_writes' || o.agentId !== null);
  const perAgent = new Map<string, TriggerObservation>();
  for (const o of attributed) {
    const key = `${o.trigger}:${o.agentId}`;
    const seen = perAgent.get(key);
    perAgent.set(key, seen ? { ...seen, count: seen.count + o.count } : o);
  }
  const unattributed = observations.filter((o) => o.trigger === 'bypass_writes' && o.agentId === null);
  const merged = [...perAgent.values()];
  if (unattributed.length > 0) {
    merged.push({
      trigger: 'bypass_writes',
      agentId: null,
      sourceId: unattributed.map((o) => o.sourceId ?? 'unknown').join(', '),
      count: unattributed.reduce((sum, o) => sum + o.count, 0),
    });
  }
  return merged;
}

export interface DrillInput {
  trigger: KillTrigger;
  agentId?: string | undefined;
  count: number;
  decided?: number | undefined;
  batchId?: string | undefined;
}

const CONFIGURED: Record<KillTrigger, keyof MonitoringSettings['killTriggers']> = {
  bypass_writes: 'bypassWrites',
  write_velocity: 'writeVelocity',
  rejection_rate: 'rejectionRate',
};

/** What a trigger would do with these counts under the active policy; engages nothing. */
export async function drillKillTrigger(
  deps: ServiceDeps,
  workspaceId: string,
  input: DrillInput,
): Promise<KillTriggerDrillResult> {
  const { policy, version } = await activePolicy(deps.db, workspaceId);
  const settings = policy.monitoring?.killTriggers ?? {};
  const configured = settings[CONFIGURED[input.trigger]];
  const observation: TriggerObservation = {
    trigger: input.trigger,
    agentId: input.agentId ?? null,
    sourceId: input.agentId ? null : 'drill',
    count: input.count,
    ...(input.decided === undefined ? {} : { decided: input.decided }),
    ...(input.batchId === undefined ? {} : { batchId: input.batchId }),
  };
  const tripped = tripKillTriggers(settings, [observation]);
  return {
    trigger: input.trigger,
    policyVersion: version,
    configured: configured ?? null,
    observed: input.count,
    wouldEngage: tripped.map(({ scope, target, reason }) => ({ scope, target: target ?? null, reason })),
    engaged: false,
  };
}
