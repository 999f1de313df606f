import { describe, expect, it } from 'vitest';
import type { AgentRole, ObjectType } from '../../shared/crm-names.ts';
import type { PolicyCondition } from '../../shared/policy.ts';
import { conditionApplies, conditionReasons, recordMatches } from '../../server/src/domain/policy-conditions.ts';

// The lists were searched with `includes` on every field write; they are sets now. The searches
// before, for comparison on random conditions and writes:
const normalized = (source: string) => source.trim().toLowerCase();
const appliedBefore = (
  condition: PolicyCondition,
  target: { objectType: ObjectType; property: string; role: AgentRole },
) => {
  const objectTypes = condition.kind === 'record_matches' ? [condition.objectType] : condition.objectTypes;
  if (objectTypes && !objectTypes.includes(target.objectType)) return false;
  if (condition.properties && !condition.properties.includes(target.property)) return false;
  return !condition.roles || condition.roles.includes(target.role);
};
const sourceAllowedBefore = (allowedSources: string[] | undefined, source: string) =>
  !allowedSources || allowedSources.map(normalized).includes(normalized(source));
const inBefore = (values: string[] | undefined, value: string | null) =>
  value !== null && value !== '' && (values ?? []).includes(value);

const random = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;
const someOf = <T>(items: readonly T[]) => {
  const chosen = items.filter(() => Math.random() < 0.4);
  return chosen.length > 0 && Math.random() < 0.7 ? chosen : undefined;
};
const OBJECTS: ObjectType[] = ['contacts', 'deals', 'salesforce:Contact'];
const PROPERTIES = ['phone', 'jobtitle', 'email', 'Title'];
const ROLES: AgentRole[] = ['prospecting', 'enrichment', 'outreach'];
const SOURCES = ['LinkedIn', ' linkedin ', 'Clearbit', 'CLEARBIT', 'web', 'Web '];
const VALUES = ['a', 'A', 'b', ' ', '', '1', '01'];

describe('a condition’s lists', () => {
  it('cover the writes, sources and values they covered as arrays', () => {
    for (let i = 0; i < 5_000; i++) {
      const scope = { objectTypes: someOf(OBJECTS), properties: someOf(PROPERTIES), roles: someOf(ROLES) };
      const evidence = {
        kind: 'evidence',
        allowedSources: someOf(SOURCES)?.map((source) => source.trim()),
        raiseTo: 'approval',
        ...scope,
      } as PolicyCondition & { kind: 'evidence' };
      const matches = {
        kind: 'record_matches',
        objectType: random(OBJECTS),
        property: random(PROPERTIES),
        op: 'in',
        values: someOf(VALUES),
        raiseTo: 'approval',
        properties: scope.properties,
        roles: scope.roles,
      } as PolicyCondition & { kind: 'record_matches' };
      const target = { objectType: random(OBJECTS), property: random(PROPERTIES), role: random(ROLES) };
      for (const condition of [evidence, matches])
        expect(conditionApplies(condition, target)).toBe(appliedBefore(condition, target));

      const source = random(SOURCES);
      const write = { proposedValue: 'x', evidence: { source } };
      expect(conditionReasons(evidence, { write, record: {}, current: null, currentHidden: false })).toEqual(
        sourceAllowedBefore(evidence.allowedSources, source) ? [] : ['evidence_source_not_allowed'],
      );

      const value = Math.random() < 0.1 ? null : random(VALUES);
      expect(recordMatches(matches, value)).toBe(inBefore(matches.values, value));
    }
  });
});
