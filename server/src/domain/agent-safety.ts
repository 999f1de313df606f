import { DEFAULT_AGENT_SAFETY, type AgentSafetySettings, type Caps, type Policy } from '../../../shared/policy.ts';
import type { ReasonCode } from '../../../shared/reason-codes.ts';
import type { FieldEvaluation } from './policy-evaluation.ts';

/**
 * Safe mode and the gates on change (issue 21), pure: what an agent's state, its volume and the
 * prompt hashes it declares do to its decisions. The services read the state and the counts.
 */

export type AgentHold = Extract<ReasonCode, 'safe_mode' | 'prompt_changed' | 'volume_jump'>;

export interface AgentSafetyState {
  safeModeUntil: Date | null;
  acceptedPromptHash: string | null;
  pendingPromptHash: string | null;
  /** The day (policy time zone) a person accepted the agent's volume on. */
  volumeAcceptedDay: string | null;
}

export const NO_SAFETY_STATE: AgentSafetyState = {
  safeModeUntil: null,
  acceptedPromptHash: null,
  pendingPromptHash: null,
  volumeAcceptedDay: null,
};

export function safetySettings(policy: Policy): AgentSafetySettings {
  return policy.agentSafety ?? DEFAULT_AGENT_SAFETY;
}

/** Safe mode ends by itself at its deadline: nothing has to run for it to end. */
export function inSafeMode(state: AgentSafetyState, now: Date): boolean {
  return state.safeModeUntil !== null && now.getTime() < state.safeModeUntil.getTime();
}

export function safeModeEnds(settings: AgentSafetySettings, releasedAt: Date): Date {
  return new Date(releasedAt.getTime() + settings.safeModeHours * 3_600_000);
}

/** Every cap (the roles' too) times the factor, rounded down but never below one. */
export function loweredCaps(policy: Policy, factor: number): Policy {
  const lower = (caps: Caps): Caps =>
    Object.fromEntries(
      Object.entries(caps).map(([name, cap]) => [
        name,
        cap === undefined ? cap : Math.max(1, Math.floor(cap * factor)),
      ]),
    );
  const { roleCaps, ...caps } = policy.caps;
  const loweredRoles = roleCaps
    ? Object.fromEntries(Object.entries(roleCaps).map(([role, own]) => [role, own && lower(own)]))
    : undefined;
  return { ...policy, caps: { ...lower(caps), ...(loweredRoles ? { roleCaps: loweredRoles } : {}) } };
}

/** What the prompt hashes of a submission mean: the first one declared becomes the accepted one. */
export function promptHashOutcome(
  state: AgentSafetyState,
  declared: readonly string[],
): { baseline?: string; changedTo?: string } {
  const first = declared[0];
  if (first === undefined) return {};
  if (state.acceptedPromptHash === null) {
    const other = declared.find((hash) => hash !== first);
    return other === undefined ? { baseline: first } : { baseline: first, changedTo: other };
  }
  const changed = declared.find((hash) => hash !== state.acceptedPromptHash);
  return changed === undefined ? {} : { changedTo: changed };
}

/** The trailing average over `trailing` (one count per day, days without writes as 0). */
export function trailingAverage(trailing: readonly number[]): number {
  return trailing.length === 0 ? 0 : trailing.reduce((sum, count) => sum + count, 0) / trailing.length;
}

/** A jump: today passes both the floor and the trailing average by more than the share. */
export function volumeJumped(
  settings: NonNullable<AgentSafetySettings['volumeJump']>,
  today: number,
  trailing: readonly number[],
): boolean {
  return today > settings.minDaily && today > trailingAverage(trailing) * (1 + settings.share);
}

export interface AgentGateInput {
  policy: Policy;
  state: AgentSafetyState;
  now: Date;
  today: string;
  /** The prompt hashes the submission's evidence declares. */
  declaredPromptHashes: readonly string[];
  /** The agent's writes today, this submission's included, and one count per trailing day. */
  volume: { today: number; trailing: readonly number[] };
}

export interface AgentGates {
  /** The policy the agent is decided under: its caps lowered in safe mode. */
  policy: Policy;
  holds: AgentHold[];
}

/** Which holds apply to this agent now, and the policy its submission is decided under. */
export function agentGates(input: AgentGateInput): AgentGates {
  const settings = safetySettings(input.policy);
  const holds: AgentHold[] = [];
  const safe = inSafeMode(input.state, input.now);
  if (safe) holds.push('safe_mode');
  const changedTo = promptHashOutcome(input.state, input.declaredPromptHashes).changedTo;
  if (settings.promptGate && (changedTo !== undefined || input.state.pendingPromptHash !== null))
    holds.push('prompt_changed');
  const jump = settings.volumeJump;
  if (
    jump &&
    input.state.volumeAcceptedDay !== input.today &&
    volumeJumped(jump, input.volume.today, input.volume.trailing)
  )
    holds.push('volume_jump');
  return {
    policy: safe ? loweredCaps(input.policy, settings.safeModeCapFactor) : input.policy,
    holds,
  };
}

/**
 * An `auto` decision held for a person, the reasons naming why; a stricter tier, or a write that
 * changes nothing, stays as it is.
 */
export function holdForGates<T extends FieldEvaluation>(evaluation: T, holds: readonly AgentHold[]): T {
  if (holds.length === 0 || evaluation.tier !== 'auto' || evaluation.reasons.includes('value_unchanged'))
    return evaluation;
  return { ...evaluation, tier: 'approval', reasons: [...evaluation.reasons, ...holds] };
}
