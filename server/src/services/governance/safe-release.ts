import { safeModeEnds, safetySettings } from '../../domain/agent-safety.ts';
import { AppError } from '../../errors.ts';
import { findKillSwitch, type KillSwitchRow } from '../../store/kill-switch-store.ts';
import { type Actor, isUuid, type ServiceDeps } from '../common/index.ts';
import { activePolicy } from './policies.ts';
import { runRegressionSet } from './regression-sets.ts';

/** Who engages a kill switch when a trigger fires; the Overview counts its engagements. */
export const TRIGGER_ACTOR: Actor = { type: 'system', name: 'kill-trigger' };
const TRIGGER_CHANGED_BY = `system:${TRIGGER_ACTOR.name}`;

export interface AgentRelease {
  regression: { passed: boolean; failures: string[] };
  forced: boolean;
  safeModeUntil: Date;
}

/**
 * Safe re-enable (issue 21): an agent's switch a kill trigger engaged is released only once the
 * agent's regression set passes under the policy in force. An owner may force it past failures,
 * and the release is audited with them. Either way the agent is then in safe mode for a while.
 * Undefined when the switch is not an agent's engaged by a trigger: it is released as any other.
 */
export async function checkAgentRelease(
  deps: ServiceDeps,
  workspaceId: string,
  input: { target?: string | undefined; force?: boolean | undefined },
  actor: Actor,
): Promise<AgentRelease | undefined> {
  if (!input.target || !isUuid(input.target)) return undefined;
  const current = await findKillSwitch(deps.db, { workspaceId, scope: 'agent', target: input.target });
  if (!stoppedByTrigger(current)) return undefined;
  const run = await runRegressionSet(deps, workspaceId, input.target);
  if (!run.passed && !input.force)
    throw new AppError(
      'REGRESSION_FAILED',
      `A kill trigger stopped this agent, and its regression set does not pass under policy version ${run.policyVersion}: ${run.failures.join(' ')}`,
      { details: { failures: run.failures, policyVersion: run.policyVersion } },
    );
  if (!run.passed && !isOwner(actor))
    throw new AppError('FORBIDDEN', 'Only an owner may release an agent whose regression set fails.');
  const { policy } = await activePolicy(deps.db, workspaceId);
  return {
    regression: { passed: run.passed, failures: run.failures },
    forced: !run.passed,
    safeModeUntil: safeModeEnds(safetySettings(policy), deps.clock()),
  };
}

function stoppedByTrigger(row: KillSwitchRow | undefined): boolean {
  return row?.engaged === true && row.changedBy === TRIGGER_CHANGED_BY;
}

/** The workspace's admin token is the owner's credential; a person must hold the owner role. */
function isOwner(actor: Actor): boolean {
  return actor.type === 'admin' || (actor.type === 'person' && actor.role === 'owner');
}
