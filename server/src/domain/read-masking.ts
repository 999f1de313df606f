import type { AgentRole, ObjectType } from '../../../shared/crm-names.ts';
import type { Policy, RecordMatchesCondition } from '../../../shared/policy.ts';
import type { ReasonCode } from '../../../shared/reason-codes.ts';
import { conditionApplies } from './policy-conditions.ts';

/**
 * Governed reads (issue 21), pure: which properties an agent role may read, in full or masked,
 * and what a masked value looks like. Deny by default: a property the policy's `read` does not
 * name for the role (or "*") is not read at all.
 */
export type ReadAccess = 'full' | 'masked';

export function readAccess(policy: Policy, objectType: ObjectType, role: AgentRole): Map<string, ReadAccess> {
  const access = new Map<string, ReadAccess>();
  for (const [property, roles] of Object.entries(policy.objects[objectType]?.read ?? {})) {
    const granted = roles[role] ?? roles['*'];
    if (granted) access.set(property, granted);
  }
  return access;
}

/** How a record's current value was shown to an agent when not in full: masked, or withheld (given as null). */
export type ShownAs = 'masked' | 'withheld';

/**
 * The governed read's rule for a record's current value an agent is shown elsewhere (a change
 * set's `before`): proposing a change must not read what a read may not. A policy with no `read`
 * section on any object has not governed reads, so its values are shown as they are.
 */
export function agentSees(
  policy: Policy,
  objectType: ObjectType,
  role: AgentRole,
): (property: string, value: string | null) => { value: string | null; shownAs?: ShownAs } {
  if (!governsReads(policy)) return (_property, value) => ({ value });
  const access = readAccess(policy, objectType, role);
  return (property, value) => {
    const granted = access.get(property);
    if (granted === 'full') return { value };
    return granted === 'masked' ? { value: maskValue(value), shownAs: 'masked' } : { value: null, shownAs: 'withheld' };
  };
}

/**
 * Whether the role reads a property's current value in full, by the same rule: deciding a write
 * must not depend on a value the agent could not read, or the decision would tell it the value.
 */
export function readsInFull(policy: Policy, objectType: ObjectType, role: AgentRole): (property: string) => boolean {
  if (!governsReads(policy)) return () => true;
  const access = readAccess(policy, objectType, role);
  return (property) => access.get(property) === 'full';
}

/**
 * A decided field write's reasons as the role may be told them now, by the read rules of
 * `readRules`. `value_unchanged` of a property it may not read in full is left out: beside the
 * proposal it is the value. So is `record_condition_matched` when a `record_matches` condition of
 * `decidedUnder` (the policy that decided the write) in scope for it looks at a property the role
 * may not read in full, whether or not that one matched: the reason would tell what the property
 * holds. The decision stands, since an admin wrote the condition; people see every reason.
 */
export function reasonsAgentSees(input: {
  readRules: Policy;
  decidedUnder: Policy;
  objectType: ObjectType;
  role: AgentRole;
}): (property: string, reasons: readonly ReasonCode[]) => ReasonCode[] {
  const { objectType, role } = input;
  const inFull = readsInFull(input.readRules, objectType, role);
  const onUnreadable = input.decidedUnder.conditions.filter(
    (condition): condition is RecordMatchesCondition =>
      condition.kind === 'record_matches' && !inFull(condition.property),
  );
  return (property, reasons) => {
    const segmentHidden = onUnreadable.some((condition) => conditionApplies(condition, { objectType, property, role }));
    return reasons.filter(
      (reason) =>
        !(reason === 'value_unchanged' && !inFull(property)) &&
        !(reason === 'record_condition_matched' && segmentHidden),
    );
  };
}

function governsReads(policy: Policy): boolean {
  return Object.values(policy.objects).some((object) => object?.read);
}

/**
 * "jane.doe@acme.com" → "j***@acme.com"; "+1 555 0199" → "***99"; other text keeps its first
 * character ("A***"); nothing stays nothing. Enough to tell values apart, not to use them.
 */
export function maskValue(value: string | null): string | null {
  if (value === null || value === '') return value;
  const at = value.lastIndexOf('@');
  if (at > 0) return `${value[0]}***${value.slice(at)}`;
  const digits = value.replace(/\D/g, '');
  if (digits.length >= 7 && digits.length >= value.replace(/[\s()+.-]/g, '').length) return `***${digits.slice(-2)}`;
  return `${[...value][0]}***`;
}
