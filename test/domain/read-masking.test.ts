import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '../../shared/policy.ts';
import type { ReasonCode } from '../../shared/reason-codes.ts';
import { reasonsAgentSees } from '../../server/src/domain/read-masking.ts';
import { policyOf } from './policy-fixtures.ts';

// The reasons an agent is told: none that tells a value its read rules withhold (issue 21).
const customers = (scope: { properties?: string[]; roles?: ('enrichment' | 'outreach')[] } = {}) =>
  ({
    kind: 'record_matches',
    objectType: 'contacts',
    property: 'lifecyclestage',
    op: 'eq',
    value: 'customer',
    raiseTo: 'approval',
    ...scope,
  }) as const;
const policy = (read: Record<string, 'full' | 'masked'>, conditions: PolicyInput['conditions'] = []) =>
  policyOf({
    objects: {
      contacts: {
        properties: { jobtitle: { '*': 'auto' }, phone: { '*': 'approval' } },
        read: Object.fromEntries(Object.entries(read).map(([property, access]) => [property, { '*': access }])),
      },
    },
    conditions,
  });
const held: ReasonCode[] = ['tier_auto', 'record_condition_matched'];

describe('the reasons an agent is told', () => {
  it('leave out record_condition_matched only for a write a condition on a property it may not read covers', () => {
    const decidedUnder = policy({}, [customers({ properties: ['jobtitle'], roles: ['enrichment'] })]);
    const told = (role: 'enrichment' | 'outreach', read: Record<string, 'full' | 'masked'>, property: string) =>
      reasonsAgentSees({ readRules: policy(read), decidedUnder, objectType: 'contacts', role })(property, held);
    expect(told('enrichment', { jobtitle: 'full' }, 'jobtitle')).toEqual(['tier_auto']);
    expect(told('enrichment', { lifecyclestage: 'masked' }, 'jobtitle')).toEqual(['tier_auto']);
    expect(told('enrichment', { lifecyclestage: 'full' }, 'jobtitle')).toEqual(held);
    // Out of the condition's scope, the reason came from another condition: it tells nothing of lifecyclestage.
    expect(told('enrichment', { jobtitle: 'full' }, 'phone')).toEqual(held);
    expect(told('outreach', { jobtitle: 'full' }, 'jobtitle')).toEqual(held);
  });

  it('leave out value_unchanged of a property it may not read in full, and nothing when reads are not governed', () => {
    const unchanged: ReasonCode[] = ['tier_auto', 'value_unchanged'];
    const told = (readRules: ReturnType<typeof policy>) =>
      reasonsAgentSees({ readRules, decidedUnder: readRules, objectType: 'contacts', role: 'enrichment' });
    expect(told(policy({ jobtitle: 'masked' }))('jobtitle', unchanged)).toEqual(['tier_auto']);
    expect(told(policy({ jobtitle: 'full' }))('jobtitle', unchanged)).toEqual(unchanged);
    const ungoverned = policyOf({ objects: { contacts: { properties: { jobtitle: { '*': 'auto' } } } } });
    expect(told(ungoverned)('jobtitle', unchanged)).toEqual(unchanged);
  });
});
