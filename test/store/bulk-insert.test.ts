import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../server/src/services/common/index.ts';
import { insertChangeRecords, insertChanges } from '../../server/src/store/change-store.ts';
import { changeRecords, changes } from '../../server/src/store/schema.ts';
import { createTestDatabase } from '../support/database.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

// Values an agent may well send: every character a Postgres array literal or JSON treats specially.
const awkward = [
  'plain',
  '',
  'NULL',
  'null',
  'with "quotes" and a \\ backslash',
  'ends with a backslash \\',
  'commas, {braces} and spaces  ',
  'line one\nline two\ttabbed\r',
  'bell \u0007 and escape \u001b',
  'accents é, CJK 漢字, emoji 🚀',
  '\\n is not a newline here',
  null,
];

async function roundTrip(values: readonly (string | null)[]) {
  const changeSetId = newId();
  const workspaceId = newId();
  const rows = values.map((value, ordinal) => ({
    id: newId(),
    workspaceId,
    changeSetId,
    ordinal,
    recordId: String(ordinal),
    property: 'jobtitle',
    beforeValue: value,
    proposedValue: value,
    tier: 'auto' as const,
    decision: 'applied' as const,
    reasons: ['value_unchanged' as const],
    message: null,
  }));
  await database.db.transaction((tx) => insertChanges(tx, rows));
  const stored = await database.db
    .select()
    .from(changes)
    .where(eq(changes.changeSetId, changeSetId))
    .orderBy(changes.ordinal);
  return stored.map((row) => ({ before: row.beforeValue, proposed: row.proposedValue, reasons: row.reasons }));
}

describe('bulk inserts', () => {
  it('store every value exactly as given, however it must be quoted', async () => {
    const stored = await roundTrip(awkward);
    expect(stored).toEqual(awkward.map((value) => ({ before: value, proposed: value, reasons: ['value_unchanged'] })));
  });

  it('store values that need no escaping beside ones that do, in one statement', async () => {
    // Only the control characters force the element-by-element path; both paths must agree.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the C0 controls are exactly what the test picks out.
    const quiet = awkward.filter((value) => value === null || !/[\u0000-\u001f]/.test(value));
    expect(await roundTrip(quiet)).toEqual(
      quiet.map((value) => ({ before: value, proposed: value, reasons: ['value_unchanged'] })),
    );
  });

  it('store a single row, and columns that hold one value in every row, like any other', async () => {
    expect(await roundTrip(['only'])).toEqual([{ before: 'only', proposed: 'only', reasons: ['value_unchanged'] }]);
    expect(await roundTrip([null, null, null])).toEqual(
      [null, null, null].map((value) => ({ before: value, proposed: value, reasons: ['value_unchanged'] })),
    );
  });

  it('keeps each row with its own JSON when rows go in several statements', async () => {
    // 400 rows of about 3 KB of JSON each: several statements' worth (about 256 KB each).
    const workspaceId = newId();
    const changeSetId = newId();
    const rows = Array.from({ length: 400 }, (_, index) => ({
      workspaceId,
      changeSetId,
      recordId: String(index).padStart(4, '0'),
      evidence: {
        source: `provider-${index}`,
        reason: `reason ${index} ${'x'.repeat(3_000)}`,
        confidence: index / 400,
      },
    }));
    await database.db.transaction((tx) => insertChangeRecords(tx, rows));
    const stored = await database.db
      .select()
      .from(changeRecords)
      .where(eq(changeRecords.changeSetId, changeSetId))
      .orderBy(changeRecords.recordId);
    expect(stored.map((row) => [row.recordId, row.evidence])).toEqual(rows.map((row) => [row.recordId, row.evidence]));
  });
});
