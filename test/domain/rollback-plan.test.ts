import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideItem,
  explainWithHistory,
  planField,
  type AuditedBefore,
  type FieldFacts,
  type OtherChange,
  type SelectedWrite,
} from '../../server/src/domain/rollback-plan.ts';
import { hubspotChangeSource } from '../../server/src/crm/hubspot/change-sources.ts';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 23, 9, minute));
const write = (
  minute: number,
  before: string | null,
  written: string | null,
  changeId = `c${minute}`,
): SelectedWrite => ({ changeId, before, written, at: at(minute) });
const other = (
  minute: number,
  origin: OtherChange['origin'],
  value: string | null,
  who: string | null = null,
): OtherChange => ({ origin, who, value, at: at(minute) });
const found = (value: string | null) => ({ found: true as const, value });
/** Facts whose audit trail recorded each selected change's value before as our rows hold it, unless given. */
type Facts = Omit<FieldFacts, 'audited'> & { audited?: FieldFacts['audited'] };
const audited = (facts: Facts): FieldFacts => ({
  ...facts,
  audited:
    facts.audited ?? new Map(facts.selected.map((s) => [s.changeId, { state: 'recorded' as const, value: s.before }])),
});
const plan = (facts: Facts, options: { force: boolean }) => planField(audited(facts), options);
const trail = (value: AuditedBefore, changeId = 'c1') => new Map([[changeId, value]]);

describe('planning one field', () => {
  it.each<{
    name: string;
    facts: Facts;
    force?: boolean;
    classification: string;
    restore?: string | null;
    cause?: string;
    origin?: string;
    forced?: boolean;
  }>([
    {
      name: 'reverts a value only the batch wrote',
      facts: { selected: [write(1, 'Engineer', 'CTO')], others: [], current: found('CTO') },
      classification: 'revert',
      restore: 'Engineer',
    },
    {
      name: 'restores an empty value as empty',
      facts: { selected: [write(1, null, 'CTO')], others: [], current: found('CTO') },
      classification: 'revert',
      restore: null,
    },
    {
      name: 'leaves a person’s later edit alone and names them',
      facts: {
        selected: [write(1, 'Engineer', 'CTO')],
        others: [other(5, 'person', 'Founder', '9001')],
        current: found('Founder'),
      },
      classification: 'conflict',
      cause: 'changed_since',
      origin: 'person',
    },
    {
      name: 'counts a later edit that wrote the same value as a conflict: the field is theirs now',
      facts: {
        selected: [write(1, 'Engineer', 'CTO')],
        others: [other(5, 'workflow', 'CTO', '77')],
        current: found('CTO'),
      },
      classification: 'conflict',
      origin: 'workflow',
    },
    {
      name: 'ignores changes made before the batch',
      facts: {
        selected: [write(5, 'Engineer', 'CTO')],
        others: [other(1, 'person', 'Engineer')],
        current: found('CTO'),
      },
      classification: 'revert',
    },
    {
      name: 'calls a value nobody told us about a conflict',
      facts: { selected: [write(1, 'Engineer', 'CTO')], others: [], current: found('VP') },
      classification: 'conflict',
      cause: 'value_differs',
      origin: 'unknown',
    },
    {
      name: 'sees a field already back at its value',
      facts: {
        selected: [write(1, 'Engineer', 'CTO')],
        others: [other(4, 'person', 'Engineer')],
        current: found('Engineer'),
      },
      classification: 'already_reverted',
    },
    {
      name: 'treats an empty string and no value alike',
      facts: { selected: [write(1, null, 'CTO')], others: [], current: found('') },
      classification: 'already_reverted',
    },
    {
      name: 'restores the value before the earliest of several selected changes',
      facts: { selected: [write(7, 'CTO', 'CEO'), write(2, 'Engineer', 'CTO')], others: [], current: found('CEO') },
      classification: 'revert',
      restore: 'Engineer',
    },
    {
      name: 'keeps a person’s edit between two selected changes a conflict',
      facts: {
        selected: [write(2, 'Engineer', 'CTO'), write(7, 'Founder', 'CEO')],
        others: [other(4, 'person', 'Founder')],
        current: found('CEO'),
      },
      classification: 'conflict',
    },
    {
      name: 'reverts a conflict with force, keeping the explanation',
      facts: {
        selected: [write(1, 'Engineer', 'CTO')],
        others: [other(5, 'import', 'Founder')],
        current: found('Founder'),
      },
      force: true,
      classification: 'revert',
      forced: true,
      origin: 'import',
    },
    {
      name: 'never writes to a record that is gone, even with force',
      facts: { selected: [write(1, 'Engineer', 'CTO')], others: [], current: { found: false } },
      force: true,
      classification: 'conflict',
      cause: 'record_missing',
    },
    {
      name: 'never writes a restore value other than the audited one, even with force',
      facts: {
        selected: [write(1, 'Forged', 'CTO')],
        others: [],
        current: found('CTO'),
        audited: trail({ state: 'recorded', value: 'Engineer' }),
      },
      force: true,
      classification: 'conflict',
      cause: 'restore_value_not_as_audited',
      origin: 'unknown',
    },
    {
      name: 'checks the earliest selected change’s audited value, the one it restores',
      facts: {
        selected: [write(5, 'CTO', 'CEO', 'later'), write(1, 'Engineer', 'CTO', 'earliest')],
        others: [],
        current: found('CEO'),
        audited: new Map<string, AuditedBefore>([
          ['earliest', { state: 'recorded', value: 'Engineer' }],
          ['later', { state: 'recorded', value: 'someone else' }],
        ]),
      },
      classification: 'revert',
      restore: 'Engineer',
    },
    {
      name: 'takes an audited empty value and a stored null as the same write',
      facts: {
        selected: [write(1, null, 'CTO')],
        others: [],
        current: found('CTO'),
        audited: trail({ state: 'recorded', value: '' }),
      },
      classification: 'revert',
      restore: null,
    },
    {
      name: 'never writes a restore value whose audited value was erased, even with force',
      facts: {
        selected: [write(1, 'Engineer', 'CTO')],
        others: [],
        current: found('CTO'),
        audited: trail({ state: 'erased' }),
      },
      force: true,
      classification: 'conflict',
      cause: 'restore_value_unverifiable',
    },
    {
      name: 'never writes a restore value no audit event records',
      facts: { selected: [write(1, 'Engineer', 'CTO')], others: [], current: found('CTO'), audited: new Map() },
      classification: 'conflict',
      cause: 'restore_value_unverifiable',
    },
  ])('$name', ({ facts, force, classification, restore, cause, origin, forced }) => {
    const planned = plan(facts, { force: force ?? false });
    expect(planned.classification).toBe(classification);
    if (restore !== undefined) expect(planned.restoreValue).toBe(restore);
    if (cause) expect(planned.conflict?.cause).toBe(cause);
    if (origin) expect(planned.conflict?.origin).toBe(origin);
    expect(planned.forced).toBe(forced ?? false);
  });

  it('settles an item whose write started before a crash as reverted, not written again', () => {
    const facts = audited({ selected: [write(1, 'Engineer', 'CTO')], others: [], current: found('Engineer') });
    expect(decideItem(facts, { force: false, inFlight: true })).toMatchObject({ action: 'settle', state: 'reverted' });
    expect(decideItem(facts, { force: false, inFlight: false })).toMatchObject({
      action: 'settle',
      state: 'already_reverted',
    });
    expect(decideItem({ ...facts, current: found('CTO') }, { force: false, inFlight: true })).toMatchObject({
      action: 'write',
    });
  });
});

/** One field's life: the selected batch, other agents and people writing in any order. */
type Actor = 'batch' | 'agent' | 'person';
interface Step {
  actor: Actor;
  value: string | null;
  /** Whether HubSpot's webhook for it reached us yet (our own agents' changes are always in our records). */
  reported: boolean;
}

const VALUES = ['a', 'b', 'c', null];
const stepArbitrary = fc.record({
  actor: fc.constantFrom<Actor>('batch', 'agent', 'person'),
  value: fc.constantFrom(...VALUES),
  reported: fc.boolean(),
});
const lifeArbitrary = fc
  .record({ initial: fc.constantFrom(...VALUES), steps: fc.array(stepArbitrary, { minLength: 1, maxLength: 8 }) })
  .filter(({ steps }) => steps.some((s) => s.actor === 'batch'));

function replay(initial: string | null, steps: Step[]): Facts & { firstBatch: number } {
  let value = initial;
  const selected: SelectedWrite[] = [];
  const others: OtherChange[] = [];
  steps.forEach((step, minute) => {
    if (step.actor === 'batch') selected.push(write(minute, value, step.value));
    else if (step.actor === 'agent' || step.reported) others.push(other(minute, step.actor, step.value));
    value = step.value;
  });
  return { selected, others, current: found(value), firstBatch: steps.findIndex((s) => s.actor === 'batch') };
}

const same = (a: string | null, b: string | null) => (a ?? '') === (b ?? '');

describe('planning over any interleaving of agent batches and human edits', () => {
  it('never overwrites a value a person wrote after the batch', () => {
    fc.assert(
      fc.property(lifeArbitrary, ({ initial, steps }) => {
        const facts = replay(initial, steps);
        const planned = plan(facts, { force: false });
        if (planned.classification !== 'revert') return;
        const current = facts.current.found ? facts.current.value : null;
        // What a revert overwrites is the batch's own value, never a person's reported edit since the batch.
        expect(same(current, planned.expectedValue)).toBe(true);
        expect(steps.slice(facts.firstBatch).some((s) => s.actor === 'person' && s.reported)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('brings back every value only the batch touched', () => {
    fc.assert(
      fc.property(lifeArbitrary, ({ initial, steps }) => {
        const facts = replay(initial, steps);
        const onlyBatchSince = steps.slice(facts.firstBatch).every((s) => s.actor === 'batch');
        if (!onlyBatchSince) return;
        const valueBeforeBatch = facts.firstBatch === 0 ? initial : steps[facts.firstBatch - 1]!.value;
        const planned = plan(facts, { force: false });
        expect(planned.classification).not.toBe('conflict');
        const after =
          planned.classification === 'revert' ? planned.restoreValue : facts.current.found ? facts.current.value : null;
        expect(same(after, valueBeforeBatch)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('with force, brings back the value before the batch whatever happened since', () => {
    fc.assert(
      fc.property(lifeArbitrary, ({ initial, steps }) => {
        const facts = replay(initial, steps);
        const valueBeforeBatch = facts.firstBatch === 0 ? initial : steps[facts.firstBatch - 1]!.value;
        const planned = plan(facts, { force: true });
        const after =
          planned.classification === 'revert' ? planned.restoreValue : facts.current.found ? facts.current.value : null;
        expect(same(after, valueBeforeBatch)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('explaining a conflict from the CRM’s property history', () => {
  const unexplained = plan(
    { selected: [write(1, 'Engineer', 'CTO')], others: [], current: found('VP') },
    { force: false },
  ).conflict!;
  it.each([
    { sourceType: 'CRM_UI', sourceId: 'userId:9001', userId: '9001', origin: 'person', who: '9001' },
    { sourceType: 'WORKFLOW', sourceId: '77', userId: null, origin: 'workflow', who: '77' },
    { sourceType: 'IMPORT', sourceId: 'import-3', userId: null, origin: 'import', who: 'import-3' },
    { sourceType: 'INTEGRATION', sourceId: '555', userId: null, origin: 'integration', who: '555' },
  ])('names a $sourceType revision as $origin $who', ({ sourceType, sourceId, userId, origin, who }) => {
    const source = hubspotChangeSource({ changeSource: sourceType, sourceId, appId: null });
    expect(explainWithHistory(unexplained, { source, sourceId, userId, value: 'VP', at: at(9) })).toMatchObject({
      cause: 'value_differs',
      origin,
      who,
      at: at(9),
    });
  });

  it('names a revision by our own app as ours (an agent’s), not an integration’s (issue 19)', () => {
    const source = hubspotChangeSource({ changeSource: 'API', sourceId: '4242424', appId: '4242424' });
    expect(
      explainWithHistory(unexplained, { source, sourceId: '4242424', userId: null, value: 'VP', at: at(9) }),
    ).toMatchObject({ cause: 'value_differs', origin: 'agent', who: null, at: at(9) });
  });

  it('leaves a conflict our records already explain as it is', () => {
    const known = plan(
      { selected: [write(1, 'Engineer', 'CTO')], others: [other(5, 'person', 'VP', '9001')], current: found('VP') },
      { force: false },
    ).conflict!;
    expect(
      explainWithHistory(known, { source: 'workflow', sourceId: '77', userId: null, value: 'VP', at: at(9) }),
    ).toBe(known);
  });
});
