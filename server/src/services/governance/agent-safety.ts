import type { AgentSafetyView, ChangeAcceptance } from '../../../../shared/agent-safety-api.ts';
import type { Policy } from '../../../../shared/policy.ts';
import {
  agentGates,
  inSafeMode,
  NO_SAFETY_STATE,
  promptHashOutcome,
  safetySettings,
  trailingAverage,
  volumeJumped,
  type AgentGates,
  type AgentSafetyState,
} from '../../domain/agent-safety.ts';
import { dayKey } from '../../domain/policy-evaluation.ts';
import { AppError } from '../../errors.ts';
import type { AgentRow } from '../../store/agent-store.ts';
import {
  agentWritesByDay,
  findAgentSafety,
  listRegressionCases,
  updateAgentSafety,
} from '../../store/agent-safety-store.ts';
import type { Db, Tx } from '../../store/database.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { policyInForce } from './policies.ts';
import { requireAgent } from './regression-sets.ts';

const DAY_MS = 86_400_000;

export async function agentSafetyState(db: Db | Tx, workspaceId: string, agentId: string): Promise<AgentSafetyState> {
  const row = await findAgentSafety(db, workspaceId, agentId);
  return row ?? NO_SAFETY_STATE;
}

/** Today's writes of the agent and one count per trailing day, as its daily cap counts them. */
async function dailyVolume(
  db: Db | Tx,
  query: { workspaceId: string; agentId: string; policy: Policy; now: Date },
): Promise<{ today: number; trailing: number[] }> {
  const jump = safetySettings(query.policy).volumeJump;
  if (!jump) return { today: 0, trailing: [] };
  const day = (offset: number) => dayKey(new Date(query.now.getTime() - offset * DAY_MS), query.policy.timezone);
  const trailingDays = Array.from({ length: jump.trailingDays }, (_, index) => day(index + 1));
  const counts = await agentWritesByDay(db, { ...query, days: [day(0), ...trailingDays] });
  return { today: counts.get(day(0)) ?? 0, trailing: trailingDays.map((key) => counts.get(key) ?? 0) };
}

/**
 * What holds this agent's submission (safe mode, a new prompt hash, a jump in volume) and the
 * policy it is decided under. A first prompt hash is taken as the accepted one; a new one is
 * recorded as pending, audited once, and holds until a person accepts it.
 */
export async function gatesForSubmission(
  deps: ServiceDeps,
  input: { workspaceId: string; agent: AgentRow; policy: Policy; promptHashes: readonly string[]; writes: number },
): Promise<AgentGates> {
  const { workspaceId, agent, policy } = input;
  const now = deps.clock();
  const declared = [...new Set(input.promptHashes)];
  let state = await agentSafetyState(deps.db, workspaceId, agent.id);
  if (safetySettings(policy).promptGate && promptNews(state, declared))
    state = await recordPromptHashes(deps, { workspaceId, agentId: agent.id, declared });
  const volume = await dailyVolume(deps.db, { workspaceId, agentId: agent.id, policy, now });
  return agentGates({
    policy,
    state,
    now,
    today: dayKey(now, policy.timezone),
    declaredPromptHashes: declared,
    volume: { today: volume.today + input.writes, trailing: volume.trailing },
  });
}

/** Whether the declared hashes tell something the state does not hold yet: a first hash, or a new pending one. */
function promptNews(state: AgentSafetyState, declared: readonly string[]): boolean {
  const { baseline, changedTo } = promptHashOutcome(state, declared);
  return baseline !== undefined || (changedTo !== undefined && changedTo !== state.pendingPromptHash);
}

/**
 * Under the chain lock, so two first submissions with different hashes cannot both become the
 * accepted one: the state read again, the baseline or the new pending hash stored and audited.
 */
async function recordPromptHashes(
  deps: ServiceDeps,
  input: { workspaceId: string; agentId: string; declared: readonly string[] },
): Promise<AgentSafetyState> {
  const { workspaceId, agentId } = input;
  return withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const state = await agentSafetyState(tx, workspaceId, agentId);
    if (!promptNews(state, input.declared)) return state;
    const { baseline, changedTo } = promptHashOutcome(state, input.declared);
    const pending = changedTo !== undefined && changedTo !== state.pendingPromptHash ? changedTo : undefined;
    const set = {
      ...(baseline === undefined ? {} : { acceptedPromptHash: baseline }),
      ...(pending === undefined ? {} : { pendingPromptHash: pending }),
    };
    await updateAgentSafety(tx, { workspaceId, agentId }, set);
    if (pending !== undefined)
      audit.append({
        type: 'agent.prompt_changed',
        actor: actorJson({ type: 'system', name: 'change-gate' }),
        agentId,
        before: { promptHash: state.acceptedPromptHash ?? baseline ?? null },
        after: { promptHash: pending },
      });
    return { ...state, ...set };
  });
}

/** A person accepts the agent's new prompt hash, or its volume for today; audited with their reason. */
export async function acceptAgentChange(
  deps: ServiceDeps,
  workspaceId: string,
  agentId: string,
  acceptance: ChangeAcceptance,
  actor: Actor,
): Promise<AgentSafetyView> {
  const policy = await policyInForce(deps.db, workspaceId);
  await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    await requireAgent(tx, workspaceId, agentId);
    const state = await agentSafetyState(tx, workspaceId, agentId);
    const key = { workspaceId, agentId };
    if (acceptance.gate === 'prompt') {
      if (state.pendingPromptHash === null)
        throw new AppError(
          'CONFLICT',
          'This agent declared no new prompt hash since the accepted one: nothing to accept.',
        );
      await updateAgentSafety(tx, key, { acceptedPromptHash: state.pendingPromptHash, pendingPromptHash: null });
      audit.append({
        type: 'agent.change_accepted',
        actor: actorJson(actor),
        agentId,
        before: { promptHash: state.acceptedPromptHash },
        after: { promptHash: state.pendingPromptHash },
        data: { gate: 'prompt', reason: acceptance.reason },
      });
      return;
    }
    const today = dayKey(deps.clock(), policy?.timezone ?? 'UTC');
    await updateAgentSafety(tx, key, { volumeAcceptedDay: today });
    audit.append({
      type: 'agent.change_accepted',
      actor: actorJson(actor),
      agentId,
      before: { volumeAcceptedDay: state.volumeAcceptedDay },
      after: { volumeAcceptedDay: today },
      data: { gate: 'volume', reason: acceptance.reason },
    });
  });
  return agentSafetyView(deps, workspaceId, agentId);
}

/** The agent's safe mode, prompt hashes, volume against its trailing average, and what holds its writes now. */
export async function agentSafetyView(
  deps: ServiceDeps,
  workspaceId: string,
  agentId: string,
): Promise<AgentSafetyView> {
  const agent = await requireAgent(deps.db, workspaceId, agentId);
  const policy = await policyInForce(deps.db, workspaceId);
  const now = deps.clock();
  const state = await agentSafetyState(deps.db, workspaceId, agentId);
  const volume = policy
    ? await dailyVolume(deps.db, { workspaceId, agentId, policy, now })
    : { today: 0, trailing: [] };
  const today = dayKey(now, policy?.timezone ?? 'UTC');
  const jump = policy ? safetySettings(policy).volumeJump : undefined;
  const holds = policy
    ? agentGates({ policy, state, now, today, declaredPromptHashes: [], volume }).holds
    : inSafeMode(state, now)
      ? (['safe_mode'] as const)
      : [];
  return {
    agentId: agent.id,
    safeModeUntil: state.safeModeUntil?.toISOString() ?? null,
    inSafeMode: inSafeMode(state, now),
    acceptedPromptHash: state.acceptedPromptHash,
    pendingPromptHash: state.pendingPromptHash,
    volume: {
      today: volume.today,
      trailingAverage: trailingAverage(volume.trailing),
      jumped: jump ? volumeJumped(jump, volume.today, volume.trailing) : false,
      acceptedToday: state.volumeAcceptedDay === today,
    },
    holds: [...holds],
    regressionCases: (await listRegressionCases(deps.db, workspaceId, agentId)).length,
  };
}
