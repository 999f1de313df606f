import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AgentRole, ObjectType } from '../../shared/crm-names.ts';
import { TIERS, type PolicyCondition, type PolicyInput, type RoleTiers, type Tier } from '../../shared/policy.ts';
import type { ReasonCode } from '../../shared/reason-codes.ts';
import { evaluateChangeSet, raiseTier, tierRank, type FieldWrite } from '../../server/src/domain/policy-evaluation.ts';
import { GOOD_EVIDENCE, WEDNESDAY_MORNING_NY, evaluateOne, policyOf } from './policy-fixtures.ts';

const jobtitleTiers = (tiers: RoleTiers) => policyOf({ objects: { contacts: { properties: { jobtitle: tiers } } } });
const autoForEnrichment = (conditions: PolicyInput['conditions']) =>
  policyOf({
    objects: { contacts: { properties: { jobtitle: { enrichment: 'auto' }, company: { enrichment: 'auto' } } } },
    conditions,
  });

describe('the base tier', () => {
  it.each(TIERS)('gives a %s field its tier and says so', (tier) => {
    expect(evaluateOne({ policy: jobtitleTiers({ enrichment: tier }) })).toEqual({ tier, reasons: [`tier_${tier}`] });
  });

  it.each<{ tiers: RoleTiers; role: AgentRole; tier: Tier }>([
    { tiers: { enrichment: 'auto', '*': 'approval' }, role: 'enrichment', tier: 'auto' },
    { tiers: { enrichment: 'auto', '*': 'approval' }, role: 'outreach', tier: 'approval' },
    { tiers: { '*': 'deny', routing: 'two_person' }, role: 'routing', tier: 'two_person' },
    { tiers: { '*': 'deny', routing: 'two_person' }, role: 'admin', tier: 'deny' },
    { tiers: { '*': 'auto', prospecting: 'deny' }, role: 'prospecting', tier: 'deny' },
  ])('lets the role named in $tiers win over "*" for $role ($tier)', ({ tiers, role, tier }) => {
    expect(evaluateOne({ policy: jobtitleTiers(tiers), role }).tier).toBe(tier);
  });

  it.each<{ what: string; objectType: ObjectType; property: string; role: AgentRole }>([
    { what: 'an object type the policy does not name', objectType: 'deals', property: 'jobtitle', role: 'enrichment' },
    { what: 'a property the policy does not name', objectType: 'contacts', property: 'firstname', role: 'enrichment' },
    { what: 'a role the property does not name', objectType: 'contacts', property: 'jobtitle', role: 'outreach' },
  ])('denies by default a write to $what', ({ objectType, property, role }) => {
    const policy = jobtitleTiers({ enrichment: 'auto' });
    expect(evaluateOne({ policy, objectType, role, write: { property } })).toEqual({
      tier: 'deny',
      reasons: ['field_not_allowed'],
    });
  });
});

describe('conditions', () => {
  it.each<{ confidence: number | undefined; raised: boolean }>([
    { confidence: 0.5, raised: true },
    { confidence: 0.69, raised: true },
    { confidence: 0.7, raised: false },
    { confidence: 1, raised: false },
    { confidence: undefined, raised: true },
  ])('holds a write with confidence $confidence for approval when below 0.7: $raised', ({ confidence, raised }) => {
    const policy = autoForEnrichment([{ kind: 'confidence_below', threshold: 0.7, raiseTo: 'approval' }]);
    const evaluation = evaluateOne({ policy, write: { evidence: { ...GOOD_EVIDENCE, confidence } } });
    expect(evaluation).toEqual(
      raised
        ? { tier: 'approval', reasons: ['tier_auto', 'confidence_below_threshold'] }
        : { tier: 'auto', reasons: ['tier_auto'] },
    );
  });

  it.each<{ op: string; value?: string | number; values?: string[]; current: string | null; matches: boolean }>([
    { op: 'eq', value: 'customer', current: 'customer', matches: true },
    { op: 'eq', value: 'customer', current: 'lead', matches: false },
    { op: 'eq', value: '', current: null, matches: true },
    { op: 'neq', value: 'customer', current: 'lead', matches: true },
    { op: 'neq', value: 'customer', current: 'customer', matches: false },
    { op: 'neq', value: 'customer', current: null, matches: true },
    { op: 'in', values: ['customer', 'evangelist'], current: 'evangelist', matches: true },
    { op: 'in', values: ['customer', 'evangelist'], current: 'lead', matches: false },
    { op: 'in', values: ['customer'], current: null, matches: false },
    { op: 'gt', value: 100, current: '150', matches: true },
    { op: 'gt', value: 100, current: '100', matches: false },
    { op: 'gt', value: '100', current: '1e3', matches: true },
    { op: 'gt', value: 100, current: 'many', matches: false },
    { op: 'gt', value: -1, current: null, matches: false },
    { op: 'gt', value: -1, current: ' ', matches: false },
    { op: 'gte', value: 100, current: '100', matches: true },
    { op: 'gte', value: 100, current: '99.5', matches: false },
    { op: 'lt', value: 100, current: '99', matches: true },
    { op: 'lt', value: 100, current: '100', matches: false },
    { op: 'lte', value: 100, current: '100', matches: true },
    { op: 'lte', value: 100, current: '100.01', matches: false },
    { op: 'is_empty', current: null, matches: true },
    { op: 'is_empty', current: '', matches: true },
    { op: 'is_empty', current: 'x', matches: false },
    { op: 'not_empty', current: 'x', matches: true },
    { op: 'not_empty', current: null, matches: false },
  ])(
    'record_matches $op $value$values against a current value of $current matches: $matches',
    ({ current, matches, ...test }) => {
      const condition = {
        kind: 'record_matches',
        objectType: 'contacts',
        property: 'numemployees',
        raiseTo: 'approval',
        ...test,
      };
      const policy = autoForEnrichment([condition as PolicyCondition]);
      const evaluation = evaluateOne({ policy, current: { numemployees: current } });
      expect(evaluation).toEqual(
        matches
          ? { tier: 'approval', reasons: ['tier_auto', 'record_condition_matched'] }
          : { tier: 'auto', reasons: ['tier_auto'] },
      );
    },
  );

  it('looks at the record of its own object type only', () => {
    const policy = autoForEnrichment([
      {
        kind: 'record_matches',
        objectType: 'deals',
        property: 'lifecyclestage',
        op: 'eq',
        value: 'customer',
        raiseTo: 'deny',
      },
    ]);
    expect(evaluateOne({ policy, current: { lifecyclestage: 'customer' } }).tier).toBe('auto');
  });

  it.each<{ current: string | null; proposed: string | null; raised: boolean }>([
    { current: null, proposed: 'Globex', raised: false },
    { current: '', proposed: 'Globex', raised: false },
    { current: 'Acme', proposed: 'Globex', raised: true },
    { current: 'Acme', proposed: null, raised: true },
    { current: 'Acme', proposed: 'Acme', raised: false },
  ])('overwrites_non_empty raises a write from $current to $proposed: $raised', ({ current, proposed, raised }) => {
    const policy = autoForEnrichment([{ kind: 'overwrites_non_empty', raiseTo: 'approval' }]);
    const evaluation = evaluateOne({
      policy,
      write: { property: 'company', proposedValue: proposed },
      current: { company: current },
    });
    expect(evaluation.tier).toBe(raised ? 'approval' : 'auto');
    expect(evaluation.reasons.includes('overwrites_non_empty_value')).toBe(raised);
  });

  it('decides a write the same whatever the current value when the read rules hide it; a value read in full counts', () => {
    const read = { company: { enrichment: 'masked' as const }, jobtitle: { enrichment: 'full' as const } };
    const policy = policyOf({
      objects: {
        contacts: {
          properties: { jobtitle: { enrichment: 'auto' }, company: { enrichment: 'auto' }, city: { '*': 'deny' } },
          read,
        },
      },
      conditions: [{ kind: 'overwrites_non_empty', raiseTo: 'approval' }],
    });
    const decide = (property: string, current: string | null) =>
      evaluateOne({ policy, write: { property, proposedValue: 'Acme' }, current: { [property]: current } });
    // Masked (company) or withheld (city): may be non-empty, never unchanged.
    for (const current of ['Acme', 'Globex', null])
      expect(decide('company', current)).toEqual({
        tier: 'approval',
        reasons: ['tier_auto', 'overwrites_non_empty_value'],
      });
    for (const current of ['Acme', null])
      expect(decide('city', current)).toEqual({ tier: 'deny', reasons: ['tier_deny'] });
    expect(decide('jobtitle', 'Acme')).toEqual({ tier: 'auto', reasons: ['tier_auto', 'value_unchanged'] });
    expect(decide('jobtitle', null)).toEqual({ tier: 'auto', reasons: ['tier_auto'] });
  });

  it.each<{ evidence: Partial<FieldWrite['evidence']>; reasons: ReasonCode[] }>([
    { evidence: {}, reasons: [] },
    { evidence: { url: undefined }, reasons: ['evidence_missing'] },
    { evidence: { source: 'CLEARBIT ' }, reasons: [] },
    { evidence: { source: 'Apollo' }, reasons: [] },
    { evidence: { source: 'scraper' }, reasons: ['evidence_source_not_allowed'] },
    { evidence: { source: 'scraper', url: undefined }, reasons: ['evidence_missing', 'evidence_source_not_allowed'] },
  ])('the evidence rule adds $reasons for evidence $evidence', ({ evidence, reasons }) => {
    const policy = autoForEnrichment([
      { kind: 'evidence', requireUrl: true, allowedSources: ['clearbit', 'apollo'], raiseTo: 'two_person' },
    ]);
    const evaluation = evaluateOne({ policy, write: { evidence: { ...GOOD_EVIDENCE, ...evidence } } });
    expect(evaluation).toEqual({ tier: reasons.length ? 'two_person' : 'auto', reasons: ['tier_auto', ...reasons] });
  });

  it.each<{
    scope: Pick<Extract<PolicyCondition, { kind: 'confidence_below' }>, 'objectTypes' | 'properties' | 'roles'>;
    applies: boolean;
  }>([
    { scope: {}, applies: true },
    { scope: { objectTypes: ['contacts'] }, applies: true },
    { scope: { objectTypes: ['deals'] }, applies: false },
    { scope: { properties: ['jobtitle', 'city'] }, applies: true },
    { scope: { properties: ['company'] }, applies: false },
    { scope: { roles: ['enrichment'] }, applies: true },
    { scope: { roles: ['outreach'] }, applies: false },
  ])(
    'a condition scoped to $scope applies to an enrichment write of contacts.jobtitle: $applies',
    ({ scope, applies }) => {
      const policy = autoForEnrichment([{ kind: 'confidence_below', threshold: 1, raiseTo: 'deny', ...scope }]);
      expect(evaluateOne({ policy, write: { evidence: { ...GOOD_EVIDENCE, confidence: 0.2 } } }).tier).toBe(
        applies ? 'deny' : 'auto',
      );
    },
  );

  it.each<{ base: Tier; raiseTo: 'approval' | 'two_person' | 'deny'; tier: Tier; reasons: ReasonCode[] }>([
    { base: 'auto', raiseTo: 'two_person', tier: 'two_person', reasons: ['tier_auto', 'confidence_below_threshold'] },
    {
      base: 'two_person',
      raiseTo: 'approval',
      tier: 'two_person',
      reasons: ['tier_two_person', 'confidence_below_threshold'],
    },
    { base: 'approval', raiseTo: 'deny', tier: 'deny', reasons: ['tier_approval', 'confidence_below_threshold'] },
    { base: 'deny', raiseTo: 'approval', tier: 'deny', reasons: ['tier_deny'] },
  ])(
    'a matching condition raising to $raiseTo turns a $base field into $tier, never lower',
    ({ base, raiseTo, tier, reasons }) => {
      const policy = policyOf({
        objects: { contacts: { properties: { jobtitle: { enrichment: base } } } },
        conditions: [{ kind: 'confidence_below', threshold: 0.9, raiseTo }],
      });
      expect(evaluateOne({ policy, write: { evidence: { ...GOOD_EVIDENCE, confidence: 0.1 } } })).toEqual({
        tier,
        reasons,
      });
    },
  );

  it('takes the strictest of several matching conditions and names each of them', () => {
    const policy = autoForEnrichment([
      { kind: 'confidence_below', threshold: 0.7, raiseTo: 'approval' },
      {
        kind: 'record_matches',
        objectType: 'contacts',
        property: 'lifecyclestage',
        op: 'eq',
        value: 'customer',
        raiseTo: 'two_person',
      },
      { kind: 'evidence', allowedSources: ['clearbit'], raiseTo: 'approval' },
    ]);
    const evaluation = evaluateOne({
      policy,
      write: { evidence: { ...GOOD_EVIDENCE, confidence: 0.3, source: 'guess' } },
      current: { lifecyclestage: 'customer' },
    });
    expect(evaluation).toEqual({
      tier: 'two_person',
      reasons: ['tier_auto', 'confidence_below_threshold', 'record_condition_matched', 'evidence_source_not_allowed'],
    });
  });
});

describe('value_unchanged', () => {
  it.each<{ tier: Tier; current: string | null; proposed: string | null }>([
    { tier: 'auto', current: 'CTO', proposed: 'CTO' },
    { tier: 'auto', current: null, proposed: '' },
    { tier: 'auto', current: '', proposed: null },
    { tier: 'approval', current: 'CTO', proposed: 'CTO' },
    { tier: 'deny', current: 'CTO', proposed: 'CTO' },
  ])(
    'keeps the $tier tier of a write that proposes $proposed over $current and says the value is unchanged',
    ({ tier, current, proposed }) => {
      const evaluation = evaluateOne({
        policy: jobtitleTiers({ enrichment: tier }),
        write: { proposedValue: proposed },
        current: { jobtitle: current },
      });
      expect(evaluation).toEqual({ tier, reasons: [`tier_${tier}`, 'value_unchanged'] });
    },
  );

  it('treats a value that differs only in case as a change', () => {
    expect(
      evaluateOne({
        policy: jobtitleTiers({ enrichment: 'auto' }),
        write: { proposedValue: 'cto' },
        current: { jobtitle: 'CTO' },
      }).reasons,
    ).toEqual(['tier_auto']);
  });
});

describe('tier helpers', () => {
  it.each<[Tier, Tier, Tier]>([
    ['auto', 'approval', 'approval'],
    ['approval', 'auto', 'approval'],
    ['two_person', 'approval', 'two_person'],
    ['approval', 'deny', 'deny'],
    ['deny', 'two_person', 'deny'],
  ])('raising %s to %s gives %s', (current, to, expected) => {
    expect(raiseTier(current, to)).toBe(expected);
  });
});

describe('the invariant', () => {
  const PROPERTIES = ['jobtitle', 'company', 'city'] as const;
  const VALUES = [null, '', 'Acme', 'CTO', '150', 'customer'] as const;
  const tier = fc.constantFrom(...TIERS);
  const raiseTo = fc.constantFrom('approval' as const, 'two_person' as const, 'deny' as const);
  const property = fc.constantFrom(...PROPERTIES);
  const scope = fc.record({
    properties: fc.option(fc.array(property, { minLength: 1 }), { nil: undefined }),
    roles: fc.option(fc.constant(['enrichment' as const]), { nil: undefined }),
  });
  const condition: fc.Arbitrary<PolicyCondition> = fc
    .oneof(
      fc.record({
        kind: fc.constant('confidence_below' as const),
        threshold: fc.double({ min: 0, max: 1, noNaN: true }),
        raiseTo,
      }),
      fc.record({ kind: fc.constant('overwrites_non_empty' as const), raiseTo }),
      fc.record({ kind: fc.constant('evidence' as const), requireUrl: fc.constant(true), raiseTo }),
      fc.record({ kind: fc.constant('evidence' as const), allowedSources: fc.constant(['clearbit']), raiseTo }),
      fc.record({
        kind: fc.constant('record_matches' as const),
        objectType: fc.constant('contacts' as const),
        property,
        op: fc.constantFrom('eq' as const, 'neq' as const),
        value: fc.constantFrom('customer', ''),
        raiseTo,
      }),
      fc.record({
        kind: fc.constant('record_matches' as const),
        objectType: fc.constant('contacts' as const),
        property,
        op: fc.constantFrom('gt' as const, 'lte' as const),
        value: fc.constantFrom(100, '150'),
        raiseTo,
      }),
      fc.record({
        kind: fc.constant('record_matches' as const),
        objectType: fc.constant('contacts' as const),
        property,
        op: fc.constant('in' as const),
        values: fc.constant(['Acme', 'CTO']),
        raiseTo,
      }),
      fc.record({
        kind: fc.constant('record_matches' as const),
        objectType: fc.constant('contacts' as const),
        property,
        op: fc.constantFrom('is_empty' as const, 'not_empty' as const),
        raiseTo,
      }),
    )
    .chain((picked) => scope.map((limits) => ({ ...picked, ...limits }) as PolicyCondition));
  const write = fc.record({
    recordId: fc.constantFrom('1', '2'),
    property,
    proposedValue: fc.constantFrom(...VALUES),
    evidence: fc.record({
      source: fc.constantFrom('clearbit', 'scraper'),
      url: fc.option(fc.constant('https://example.com'), { nil: undefined }),
      confidence: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
      reason: fc.constant('because'),
    }),
  });
  const record = fc.record({
    jobtitle: fc.constantFrom(...VALUES),
    company: fc.constantFrom(...VALUES),
    city: fc.constantFrom(...VALUES),
  });

  // Without caps: a condition that denies an early write frees a cap slot for a later one, by design.
  it('adding any condition never lowers the tier of any write', () => {
    fc.assert(
      fc.property(
        fc.tuple(tier, tier, tier),
        fc.array(condition, { maxLength: 3 }),
        condition,
        fc.array(write, { minLength: 1, maxLength: 6 }),
        record,
        record,
        (tiers, conditions, added, writes, first, second) => {
          const objects = {
            contacts: {
              properties: Object.fromEntries(PROPERTIES.map((name, index) => [name, { enrichment: tiers[index] }])),
            },
          };
          const evaluate = (all: PolicyCondition[]) =>
            evaluateChangeSet({
              policy: policyOf({ objects, conditions: all }),
              agentRole: 'enrichment',
              objectType: 'contacts',
              writes,
              records: new Map([
                ['1', first],
                ['2', second],
              ]),
              usage: { agentWritesToday: 0, recordWritesToday: new Map() },
              now: WEDNESDAY_MORNING_NY,
            }).evaluations.map((evaluation) => tierRank(evaluation.tier));
          const before = evaluate(conditions);
          const after = evaluate([...conditions, added]);
          for (const [index, rank] of after.entries()) expect(rank).toBeGreaterThanOrEqual(before[index] ?? Infinity);
        },
      ),
      { numRuns: 300 },
    );
  });
});
