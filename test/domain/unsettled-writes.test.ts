import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateFields, tierRank } from '../../server/src/domain/policy-evaluation.ts';
import { reconsiderForUnsettled, withUnsettledValues } from '../../server/src/domain/unsettled-writes.ts';
import { fieldWrite, policyOf, WEDNESDAY_MORNING_NY } from './policy-fixtures.ts';

const policy = policyOf({
  objects: { contacts: { properties: { company: { enrichment: 'auto' }, jobtitle: { enrichment: 'auto' } } } },
  conditions: [
    { kind: 'overwrites_non_empty', objectTypes: ['contacts'], properties: ['company'], raiseTo: 'approval' },
    {
      kind: 'record_matches',
      objectType: 'contacts',
      property: 'lifecyclestage',
      op: 'eq',
      value: 'customer',
      raiseTo: 'approval',
    },
  ],
});

function reconsider(
  read: Record<string, string | null>,
  unsettled: Record<string, string | null> | undefined,
  write = fieldWrite({ property: 'company', proposedValue: 'Acme' }),
) {
  const input = {
    policy,
    agentRole: 'enrichment' as const,
    objectType: 'contacts' as const,
    writes: [write],
    records: new Map([[write.recordId, read]]),
    now: WEDNESDAY_MORNING_NY,
  };
  const result = reconsiderForUnsettled({
    ...input,
    uncapped: evaluateFields(input),
    unsettled: new Map(unsettled ? [[write.recordId, unsettled]] : []),
  });
  return { ...result.uncapped[0]!, before: result.records.get(write.recordId)?.[write.property] ?? null };
}

describe('deciding against writes still unsettled', () => {
  it.each<{
    what: string;
    read: Record<string, string | null>;
    unsettled: Record<string, string | null> | undefined;
    tier: string;
    reasons: string[];
    counts: boolean;
    before: string | null;
  }>([
    {
      what: 'nothing unsettled: the read decides',
      read: { company: null },
      unsettled: undefined,
      tier: 'auto',
      reasons: ['tier_auto'],
      counts: true,
      before: null,
    },
    {
      what: 'a concurrent fill of the empty field: held as an overwrite of it',
      read: { company: null },
      unsettled: { company: 'Other' },
      tier: 'approval',
      reasons: ['tier_auto', 'overwrites_non_empty_value'],
      counts: true,
      before: 'Other',
    },
    {
      what: 'a concurrent write of the same value: written again, not trusted as done',
      read: { company: null },
      unsettled: { company: 'Acme' },
      tier: 'auto',
      reasons: ['tier_auto'],
      counts: true,
      before: 'Acme',
    },
    {
      what: 'the same value read and unsettled: unchanged',
      read: { company: 'Acme' },
      unsettled: { company: 'Acme' },
      tier: 'auto',
      reasons: ['tier_auto', 'value_unchanged'],
      counts: false,
      before: 'Acme',
    },
    {
      what: 'an unsettled write clearing the field: the value read still holds it',
      read: { company: 'Old' },
      unsettled: { company: null },
      tier: 'approval',
      reasons: ['tier_auto', 'overwrites_non_empty_value'],
      counts: true,
      before: null,
    },
    {
      what: 'an unsettled write that makes a record condition match',
      read: { company: null },
      unsettled: { lifecyclestage: 'customer' },
      tier: 'approval',
      reasons: ['tier_auto', 'record_condition_matched'],
      counts: true,
      before: null,
    },
  ])('$what', ({ read, unsettled, tier, reasons, counts, before }) => {
    expect(reconsider(read, unsettled)).toEqual({ tier, reasons, countsTowardCaps: counts, before });
  });

  it('leaves a record the CRM did not return absent', () => {
    expect(withUnsettledValues(new Map(), new Map([['101', { company: 'Other' }]])).has('101')).toBe(false);
  });

  it('never lowers the tier the read alone gives', () => {
    const value = fc.option(fc.constantFrom('', 'Acme', 'Other', 'customer'), { nil: null });
    fc.assert(
      fc.property(
        value,
        value,
        value,
        value,
        fc.constantFrom('company', 'jobtitle'),
        (readCompany, readStage, unsettledCompany, unsettledStage, property) => {
          const write = fieldWrite({ property, proposedValue: 'Acme' });
          const read = { company: readCompany, jobtitle: readCompany, lifecyclestage: readStage };
          const input = {
            policy,
            agentRole: 'enrichment' as const,
            objectType: 'contacts' as const,
            writes: [write],
            records: new Map([[write.recordId, read]]),
            now: WEDNESDAY_MORNING_NY,
          };
          const alone = evaluateFields(input)[0]!;
          const reconsidered = reconsider(
            read,
            { [property]: unsettledCompany, lifecyclestage: unsettledStage },
            write,
          );
          expect(tierRank(reconsidered.tier)).toBeGreaterThanOrEqual(tierRank(alone.tier));
        },
      ),
    );
  });
});
