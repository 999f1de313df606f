import { describe, expect, it } from 'vitest';
import { writeLanded, type Revision } from '../../server/src/domain/write-landed.ts';

const CS = 'cs-1';
const at = (ms: number) => new Date(1_700_000_000_000 + ms);
const rev = (value: string | null, ms: number): Revision => ({ value, at: at(ms) });

// Revisions newest first, as HubSpot lists them. Our write is at t=10 when it happened.
describe('whether a write sent before a crash landed', () => {
  it.each([
    {
      when: 'the record names the change set and holds the proposed value',
      changeId: [rev(CS, 10), rev('older', 1)],
      title: [rev('CTO', 10), rev('', 1)],
      landed: true,
    },
    { when: 'nothing of ours reached the record', changeId: [rev('older', 1)], title: [rev('', 1)], landed: false },
    {
      when: 'a person changed the value after our write landed',
      changeId: [rev(CS, 10)],
      title: [rev('Founder', 20), rev('CTO', 10)],
      landed: true,
    },
    {
      when: 'another change set replaced our value and provenance after our write landed',
      changeId: [rev('cs-2', 20), rev(CS, 10)],
      title: [rev('VP', 20), rev('CTO', 10)],
      landed: true,
    },
    {
      when: 'another change set wrote the record and ours never landed',
      changeId: [rev('cs-2', 20), rev('older', 1)],
      title: [rev('VP', 20)],
      landed: false,
    },
    {
      when: 'only the approval path wrote other fields under the same change set',
      changeId: [rev(CS, 30)],
      title: [rev('', 1)],
      landed: false,
    },
    { when: 'the CRM has no history of the record at all', changeId: [], title: [], landed: false },
  ])('$when: landed $landed', ({ changeId, title, landed }) => {
    expect(
      writeLanded({ changeSetId: CS, changeIdRevisions: changeId, writes: [{ value: 'CTO', revisions: title }] }),
    ).toBe(landed);
  });

  it('takes a proposal to empty a field as landed when the field reads empty', () => {
    expect(
      writeLanded({
        changeSetId: CS,
        changeIdRevisions: [rev(CS, 10)],
        writes: [{ value: null, revisions: [rev('', 10)] }],
      }),
    ).toBe(true);
  });
});
