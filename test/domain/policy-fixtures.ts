import type { AgentRole, ObjectType } from '../../shared/crm-names.ts';
import { parsePolicy, type Policy, type PolicyInput } from '../../shared/policy.ts';
import { evaluateChangeSet, type FieldEvaluation, type FieldWrite } from '../../server/src/domain/policy-evaluation.ts';

/** Wednesday 7 January 2026, 10:00 in New York (EST, UTC-5), 15:00 UTC. */
export const WEDNESDAY_MORNING_NY = new Date('2026-01-07T15:00:00Z');

export const GOOD_EVIDENCE: FieldWrite['evidence'] = {
  source: 'clearbit',
  url: 'https://example.com/p/1',
  confidence: 0.95,
  reason: 'The company site lists it',
};

/** A valid policy (defaults applied) from the given parts; throws with the issues when it is not. */
export function policyOf(parts: Partial<PolicyInput>): Policy {
  const parsed = parsePolicy({ name: 'test policy', timezone: 'UTC', objects: {}, ...parts });
  if (!parsed.ok) throw new Error(`test policy is invalid:\n${parsed.issues.join('\n')}`);
  return parsed.policy;
}

export function fieldWrite(overrides: Partial<FieldWrite> = {}): FieldWrite {
  return { recordId: '101', property: 'jobtitle', proposedValue: 'CTO', evidence: GOOD_EVIDENCE, ...overrides };
}

export interface SingleWriteCase {
  policy: Policy;
  role?: AgentRole;
  objectType?: ObjectType;
  write?: Partial<FieldWrite>;
  /** The record's current values; the written property is empty unless given. */
  current?: Record<string, string | null>;
  now?: Date;
}

/** Evaluates one write on one record with no usage so far today. */
export function evaluateOne(input: SingleWriteCase): FieldEvaluation {
  const write = fieldWrite(input.write);
  const { evaluations } = evaluateChangeSet({
    policy: input.policy,
    agentRole: input.role ?? 'enrichment',
    objectType: input.objectType ?? 'contacts',
    writes: [write],
    records: new Map([[write.recordId, input.current ?? {}]]),
    usage: { agentWritesToday: 0, recordWritesToday: new Map() },
    now: input.now ?? WEDNESDAY_MORNING_NY,
  });
  const [evaluation] = evaluations;
  if (!evaluation) throw new Error('evaluateChangeSet returned no evaluation for the write');
  return evaluation;
}
