import {
  regressionCaseSchema,
  type RegressionCase,
  type RegressionRun,
  type RegressionSet,
} from '../../../../shared/agent-safety-api.ts';
import { evidenceSchema } from '../../../../shared/agent-api.ts';
import { objectTypeSchema } from '../../../../shared/crm-names.ts';
import { safetySettings } from '../../domain/agent-safety.ts';
import { replayRecentWrites, runCase, type RecentWrite } from '../../domain/regression-sets.ts';
import { AppError } from '../../errors.ts';
import { findAgent, type AgentRow } from '../../store/agent-store.ts';
import { listRegressionCases, rejectedWritesSince, replaceRegressionCases } from '../../store/agent-safety-store.ts';
import type { Db, Tx } from '../../store/database.ts';
import { actorJson, type Actor, isUuid, newId, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { activePolicy } from './policies.ts';

/** Rejected writes one run decides again at most: the newest, which say most about the agent now. */
const MAX_RECENT_REPLAYED = 5_000;

export async function requireAgent(db: Db | Tx, workspaceId: string, agentId: string): Promise<AgentRow> {
  const agent = isUuid(agentId) ? await findAgent(db, workspaceId, agentId) : undefined;
  if (!agent) throw new AppError('NOT_FOUND', `Agent ${agentId} does not exist in this workspace.`);
  return agent;
}

async function storedCases(db: Db | Tx, workspaceId: string, agentId: string): Promise<RegressionCase[]> {
  return (await listRegressionCases(db, workspaceId, agentId)).map((row) => regressionCaseSchema.parse(row.case));
}

export async function getRegressionSet(
  deps: ServiceDeps,
  workspaceId: string,
  agentId: string,
): Promise<RegressionSet> {
  await requireAgent(deps.db, workspaceId, agentId);
  return { cases: await storedCases(deps.db, workspaceId, agentId) };
}

/** Replaces the agent's set whole, audited with the names of the cases before and after. */
export async function putRegressionSet(
  deps: ServiceDeps,
  workspaceId: string,
  agentId: string,
  set: RegressionSet,
  actor: Actor,
): Promise<RegressionSet> {
  return withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    await requireAgent(tx, workspaceId, agentId);
    const before = await storedCases(tx, workspaceId, agentId);
    const now = deps.clock();
    await replaceRegressionCases(
      tx,
      { workspaceId, agentId },
      set.cases.map((regression, ordinal) => ({
        id: newId(),
        ordinal,
        name: regression.name,
        case: regression,
        createdAt: now,
      })),
    );
    audit.append({
      type: 'agent.regression_set_changed',
      actor: actorJson(actor),
      agentId,
      before: { cases: before.map((c) => c.name) },
      after: { cases: set.cases.map((c) => c.name) },
    });
    return set;
  });
}

/**
 * The agent's cases and its recent rejected writes, decided under the policy in force by the
 * evaluator submissions meet. It passes when every case got its expected decision, no recent
 * failure stands, and the set has a case at all (an empty set shows nothing about the policy).
 */
export async function runRegressionSet(
  deps: ServiceDeps,
  workspaceId: string,
  agentId: string,
): Promise<RegressionRun> {
  const agent = await requireAgent(deps.db, workspaceId, agentId);
  const { version, policy } = await activePolicy(deps.db, workspaceId);
  const now = deps.clock();
  const cases = (await storedCases(deps.db, workspaceId, agentId)).map((regression) =>
    runCase({ policy, agentRole: agent.role, now, case: regression }),
  );
  const { regressionLookbackHours } = safetySettings(policy);
  const since = new Date(now.getTime() - regressionLookbackHours * 3_600_000);
  const recent = (
    await rejectedWritesSince(deps.db, { workspaceId, agentId, since, limit: MAX_RECENT_REPLAYED })
  ).flatMap((row): RecentWrite[] => {
    const evidence = evidenceSchema.safeParse(row.evidence);
    const objectType = objectTypeSchema.safeParse(row.objectType);
    if (!evidence.success || !objectType.success) return [];
    return [{ ...row, objectType: objectType.data, evidence: evidence.data, approvalStatus: 'rejected' }];
  });
  const recentFailures = replayRecentWrites({ policy, agentRole: agent.role, now, writes: recent });

  const failures: string[] = [];
  if (cases.length === 0) failures.push('The regression set has no cases: add the cases this agent must pass.');
  for (const result of cases.filter((c) => !c.passed)) {
    const got = result.actual.map((d) => `${d.property ? `${d.property}: ` : ''}${d.tier} (${d.reasons.join(', ')})`);
    failures.push(
      `Case "${result.name}" expected ${result.expected.tier}${result.expected.reasons.length > 0 ? ` with ${result.expected.reasons.join(', ')}` : ''}, got ${got.join('; ')}.`,
    );
  }
  for (const { write } of recentFailures)
    failures.push(
      `Record ${write.recordId}, ${write.property}: people rejected this write (change set ${write.changeSetId}) and the policy in force would apply it without asking.`,
    );
  return {
    agentId,
    policyVersion: version,
    passed: failures.length === 0,
    cases,
    recent: {
      lookbackHours: regressionLookbackHours,
      replayed: recent.length,
      failures: recentFailures.map(({ write, actual }) => ({
        changeSetId: write.changeSetId,
        recordId: write.recordId,
        property: write.property,
        proposedValue: write.proposedValue,
        actual,
      })),
    },
    failures,
  };
}
