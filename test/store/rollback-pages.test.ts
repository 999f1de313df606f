import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../server/src/services/common/index.ts';
import { rollbackItems } from '../../server/src/store/rollback-schema.ts';
import { nextUnsettledItems, type RollbackItemState } from '../../server/src/store/rollback-store.ts';
import { createTestDatabase } from '../support/database.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

/** A plan's items: each record's properties at consecutive seqs, some already settled. */
async function seedItems(records: { properties: number; settled: boolean }[]): Promise<string> {
  const rollbackId = newId();
  const workspaceId = newId();
  let seq = 0;
  const rows = records.flatMap((record, index) =>
    Array.from({ length: record.properties }, (_, p) => ({
      rollbackId,
      seq: seq++,
      workspaceId,
      objectType: index % 7 === 6 ? 'deals' : 'contacts',
      recordId: String(1000 + index),
      property: `p${p}`,
      changeIds: [newId()],
      selectedFrom: new Date(),
      restoreValue: null,
      expectedValue: 'x',
      state: (record.settled ? 'reverted' : 'pending') as RollbackItemState,
    })),
  );
  for (let i = 0; i < rows.length; i += 1000) await database.db.insert(rollbackItems).values(rows.slice(i, i + 1000));
  return rollbackId;
}

async function walk(rollbackId: string, maxRecords: number, maxItems: number) {
  const pages: { objectType: string; recordId: string; seq: number }[][] = [];
  let afterSeq = -1;
  for (;;) {
    const page = await nextUnsettledItems(database.db, { rollbackId, afterSeq, maxRecords, maxItems });
    if (page.length === 0) return pages;
    pages.push(page);
    afterSeq = page.at(-1)!.seq;
  }
}

const recordKey = (item: { objectType: string; recordId: string }) => `${item.objectType}/${item.recordId}`;

describe('walking a rollback plan a step at a time', () => {
  it('returns every unsettled item once, in plan order, in pages of whole records', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ properties: fc.integer({ min: 1, max: 6 }), settled: fc.boolean() }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 6, max: 30 }),
        async (records, maxRecords, maxItems) => {
          const rollbackId = await seedItems(records);
          const pages = await walk(rollbackId, maxRecords, maxItems);
          const seen = pages.flat();
          const expected = records.reduce((total, record) => total + (record.settled ? 0 : record.properties), 0);
          expect(seen).toHaveLength(expected);
          expect(seen.map((item) => item.seq)).toEqual([...seen.map((item) => item.seq)].sort((a, b) => a - b));
          for (const page of pages) {
            expect(new Set(page.map(recordKey)).size).toBeLessThanOrEqual(maxRecords);
            expect(page.length).toBeLessThanOrEqual(maxItems);
          }
          // A record is never split across pages.
          const pagesOfRecord = new Map<string, Set<number>>();
          for (const [index, page] of pages.entries()) {
            for (const item of page)
              pagesOfRecord.set(recordKey(item), (pagesOfRecord.get(recordKey(item)) ?? new Set()).add(index));
          }
          expect([...pagesOfRecord.values()].every((indexes) => indexes.size === 1)).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('gives a record with more items than a page may hold in pieces rather than never', async () => {
    const rollbackId = await seedItems([
      { properties: 25, settled: false },
      { properties: 2, settled: false },
    ]);
    const pages = await walk(rollbackId, 10, 10);
    // The rest of the large record then fits with the next one.
    expect(pages.map((page) => page.length)).toEqual([10, 10, 7]);
  });
});
