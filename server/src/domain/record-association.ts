import type { AgentRole, ObjectType } from '../../../shared/crm-names.ts';
import type { Policy } from '../../../shared/policy.ts';
import { baseEvaluation, capsFor, type FieldEvaluation } from './policy-evaluation.ts';

/**
 * Decides each association of a change set (issue 21), in order: the object's `associate` tier
 * for the role (deny by default), then the agent's daily cap of associations. The properties'
 * conditions do not apply: an association sets no property.
 */
export function evaluateAssociations(input: {
  policy: Policy;
  agentRole: AgentRole;
  objectType: ObjectType;
  count: number;
  associationsToday: number;
}): { evaluations: FieldEvaluation[]; added: number } {
  const { policy, agentRole } = input;
  const cap = capsFor(policy, agentRole).associationsPerAgentPerDay;
  const base = baseEvaluation(policy.objects[input.objectType]?.associate, agentRole);
  let added = 0;
  const evaluations = Array.from({ length: input.count }, (): FieldEvaluation => {
    if (base.tier === 'deny') return base;
    if (cap !== undefined && input.associationsToday + added >= cap)
      return { tier: 'deny', reasons: [...base.reasons, 'cap_agent_daily_associations_reached'] };
    added += 1;
    return base;
  });
  return { evaluations, added };
}
