import type { AgentRole, ObjectType } from '../../../shared/crm-names.ts';
import type { PolicyCondition, RecordMatchesCondition } from '../../../shared/policy.ts';
import type { ReasonCode } from '../../../shared/reason-codes.ts';

/** A record's current CRM values, by property name; null for a property with no value. */
export type CurrentValues = Readonly<Record<string, string | null>>;

interface ConditionTarget {
  objectType: ObjectType;
  property: string;
  role: AgentRole;
}

/**
 * A condition's lists as sets, made once per parsed condition: a policy may list 1,000 properties,
 * sources or values in each of 500 conditions, and every field write of a change set asks them.
 */
interface ListSets {
  objectTypes: ReadonlySet<string> | undefined;
  properties: ReadonlySet<string> | undefined;
  roles: ReadonlySet<string> | undefined;
  allowedSources: ReadonlySet<string> | undefined;
  values: ReadonlySet<string> | undefined;
}

const listSets = new WeakMap<object, ListSets>();

function setsOf(condition: {
  kind?: string;
  objectType?: string;
  objectTypes?: readonly string[] | undefined;
  properties?: readonly string[] | undefined;
  roles?: readonly string[] | undefined;
  allowedSources?: readonly string[] | undefined;
  values?: readonly string[] | undefined;
}): ListSets {
  let sets = listSets.get(condition);
  if (!sets) {
    const objectTypes = condition.kind === 'record_matches' ? [condition.objectType!] : condition.objectTypes;
    sets = {
      objectTypes: objectTypes && new Set(objectTypes),
      properties: condition.properties && new Set(condition.properties),
      roles: condition.roles && new Set(condition.roles),
      allowedSources: condition.allowedSources && new Set(condition.allowedSources.map(normalizeSource)),
      values: condition.values && new Set(condition.values),
    };
    listSets.set(condition, sets);
  }
  return sets;
}

/** Whether the condition's scope covers this write; an omitted list covers everything. */
export function conditionApplies(condition: PolicyCondition, target: ConditionTarget): boolean {
  const { objectTypes, properties, roles } = setsOf(condition);
  if (objectTypes && !objectTypes.has(target.objectType)) return false;
  if (properties && !properties.has(target.property)) return false;
  return !roles || roles.has(target.role);
}

interface WriteUnderTest {
  write: {
    proposedValue: string | null;
    evidence: { source: string; url?: string | undefined; confidence?: number | undefined };
  };
  record: CurrentValues;
  current: string | null;
  /** The agent may not read `current` in full: the condition must not depend on it. */
  currentHidden: boolean;
}

/** The reasons this condition raises the write for; none when it does not match. */
export function conditionReasons(condition: PolicyCondition, input: WriteUnderTest): ReasonCode[] {
  const { write } = input;
  switch (condition.kind) {
    case 'confidence_below':
      // An agent that states no confidence gets no benefit of the doubt.
      return write.evidence.confidence === undefined || write.evidence.confidence < condition.threshold
        ? ['confidence_below_threshold']
        : [];
    case 'record_matches':
      return recordMatches(condition, input.record[condition.property] ?? null) ? ['record_condition_matched'] : [];
    case 'overwrites_non_empty':
      // A value the agent may not read may be non-empty: matching either way would tell it which.
      return input.currentHidden || (!isEmpty(input.current) && !sameValue(input.current, write.proposedValue))
        ? ['overwrites_non_empty_value']
        : [];
    case 'evidence': {
      const reasons: ReasonCode[] = [];
      if (condition.requireUrl && !write.evidence.url) reasons.push('evidence_missing');
      const allowed = setsOf(condition).allowedSources;
      if (allowed && !allowed.has(normalizeSource(write.evidence.source))) reasons.push('evidence_source_not_allowed');
      return reasons;
    }
  }
}

function normalizeSource(source: string): string {
  return source.trim().toLowerCase();
}

/** Compares the record's current value; an empty value equals only "" and is in no list. */
export function recordMatches(
  condition: Pick<RecordMatchesCondition, 'op' | 'value' | 'values'>,
  value: string | null,
): boolean {
  const expected = condition.value === undefined ? undefined : String(condition.value);
  const actual = value ?? '';
  switch (condition.op) {
    case 'is_empty':
      return isEmpty(value);
    case 'not_empty':
      return !isEmpty(value);
    case 'eq':
      return actual === expected;
    case 'neq':
      return actual !== expected;
    case 'in':
      return !isEmpty(value) && (setsOf(condition).values?.has(actual) ?? false);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return compareNumbers(condition.op, value, expected);
  }
}

/** CRM values are strings; a value that is not a number never matches a numeric comparison. */
function compareNumbers(op: 'gt' | 'gte' | 'lt' | 'lte', value: string | null, expected: string | undefined): boolean {
  if (value === null || value.trim() === '' || expected === undefined) return false;
  const left = Number(value);
  const right = Number(expected);
  if (!Number.isFinite(left) || !Number.isFinite(right)) return false;
  if (op === 'gt') return left > right;
  if (op === 'gte') return left >= right;
  if (op === 'lt') return left < right;
  return left <= right;
}

export function isEmpty(value: string | null | undefined): boolean {
  return value === null || value === undefined || value === '';
}

/** HubSpot reports a cleared property as "" or null, so the two are the same value. */
export function sameValue(a: string | null, b: string | null): boolean {
  return isEmpty(a) ? isEmpty(b) : a === b;
}
