import type { RegressionCase } from '../../../shared/agent-safety-api.ts';
import type { PropertyValue } from '../../../shared/agent-api.ts';
import type { AgentRole, ObjectType } from '../../../shared/crm-names.ts';
import type { Policy, Tier } from '../../../shared/policy.ts';
import type { ReasonCode } from '../../../shared/reason-codes.ts';
import { evaluateContent } from './content-rules.ts';
import {
  applyCaps,
  evaluateFields,
  evaluateRecordAction,
  evaluateSend,
  type FieldEvaluation,
  type FieldWrite,
} from './policy-evaluation.ts';

/**
 * An agent's regression set (issue 21), pure: each case decided by the same evaluator a
 * submission meets, under the policy given, with no usage counted today (a case is about rules,
 * not about the day's counters) and no stop rules (they read the CRM, not the policy).
 */

export interface CaseDecision extends FieldEvaluation {
  property?: string;
}

export interface CaseResult {
  name: string;
  passed: boolean;
  expected: { tier: Tier; reasons: ReasonCode[] };
  actual: CaseDecision[];
}

const NO_USAGE = { agentWritesToday: 0, recordWritesToday: new Map<string, number>() };

export function runCase(input: { policy: Policy; agentRole: AgentRole; now: Date; case: RegressionCase }): CaseResult {
  const actual = decideCase(input);
  const { expected } = input.case;
  const passed =
    actual.length > 0 &&
    actual.every(
      (decision) =>
        decision.tier === expected.tier && expected.reasons.every((reason) => decision.reasons.includes(reason)),
    );
  return { name: input.case.name, passed, expected, actual };
}

function decideCase(input: { policy: Policy; agentRole: AgentRole; now: Date; case: RegressionCase }): CaseDecision[] {
  const { policy, agentRole, now } = input;
  const regression = input.case;
  if (regression.kind === 'change') {
    const recordId = regression.change.recordId;
    const writes: FieldWrite[] = Object.entries(regression.change.properties).map(([property, value]) => ({
      recordId,
      property,
      proposedValue: asCrmText(value),
      evidence: regression.change.evidence,
    }));
    const records = new Map([[recordId, regression.current ?? {}]]);
    return decideWrites({ policy, agentRole, now, objectType: regression.objectType, writes, records });
  }
  const draft = regression.draft;
  const base =
    draft.kind === 'send_email'
      ? evaluateSend({ policy, agentRole, recipientEmail: draft.to, usage: { domainSendsToday: new Map() }, now })
      : evaluateRecordAction({ policy, agentRole, action: draft.kind, now });
  if (base.tier === 'deny') return [{ tier: base.tier, reasons: base.reasons }];
  const content = evaluateContent({
    policy,
    agentRole,
    action: draft.kind,
    tier: base.tier,
    texts: { subject: 'subject' in draft ? draft.subject : undefined, body: draft.body },
  });
  return [{ tier: content.tier, reasons: [...base.reasons, ...content.reasons] }];
}

function decideWrites(input: {
  policy: Policy;
  agentRole: AgentRole;
  now: Date;
  objectType: ObjectType;
  writes: FieldWrite[];
  records: ReadonlyMap<string, Record<string, string | null>>;
}): CaseDecision[] {
  const uncapped = evaluateFields(input);
  const { evaluations } = applyCaps({ ...input, uncapped, usage: NO_USAGE });
  return evaluations.map((evaluation, index) => ({ ...evaluation, property: input.writes[index]!.property }));
}

/** As a CRM stores it: the policy's conditions compare text. */
function asCrmText(value: PropertyValue): string | null {
  return value === null ? null : String(value);
}

/** A field write the agent submitted lately, and what people made of it. */
export interface RecentWrite extends FieldWrite {
  changeSetId: string;
  objectType: ObjectType;
  beforeValue: string | null;
  /** The status of the approval it was held in, if it was held. */
  approvalStatus: string | null;
}

export interface RecentFailure {
  write: RecentWrite;
  actual: FieldEvaluation;
}

/**
 * The agent's recent writes decided again under the policy given, against the value each found
 * (conditions on other properties of the record see nothing). A failure is a write people
 * rejected that this policy would apply without asking: the stop would not have helped.
 */
export function replayRecentWrites(input: {
  policy: Policy;
  agentRole: AgentRole;
  now: Date;
  writes: readonly RecentWrite[];
}): RecentFailure[] {
  const failures: RecentFailure[] = [];
  for (const write of input.writes) {
    if (write.approvalStatus !== 'rejected') continue;
    const [actual] = decideWrites({
      ...input,
      objectType: write.objectType,
      writes: [write],
      records: new Map([[write.recordId, { [write.property]: write.beforeValue }]]),
    });
    if (actual && actual.tier === 'auto' && !actual.reasons.includes('value_unchanged'))
      failures.push({ write, actual: { tier: actual.tier, reasons: actual.reasons } });
  }
  return failures;
}
