import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../server/src/services/common/index.ts';
import { insertChangeRecords, insertChanges } from '../../server/src/store/change-store.ts';
import { InFlight } from '../../server/src/store/in-flight.ts';
import { changeRecords, changes } from '../../server/src/store/schema.ts';
import { createTestDatabase } from '../support/database.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

function changeRows(changeSetId: string, count: number) {
  return Array.from({ length: count }, (_, ordinal) => ({
    id: newId(),
    workspaceId: newId(),
    changeSetId,
    ordinal,
    recordId: String(ordinal),
    property: 'jobtitle',
    beforeValue: null,
    proposedValue: `Title ${ordinal}`,
    tier: 'auto' as const,
    decision: 'applied' as const,
    reasons: ['tier_auto' as const],
    message: null,
  }));
}

// On Postgres the connection pipelines: statements sent without waiting are already on the wire
// behind the one that fails, so this is where a broken connection or a half-stored change set would show.
describe('statements sent without waiting, in one transaction', () => {
  it('store nothing when one of them fails, and leave every connection able to serve the next transaction', async () => {
    // As many at once as the pool has connections, so every connection sees a failure.
    const changeSetIds = Array.from({ length: 10 }, () => newId());
    const outcomes = await Promise.allSettled(
      changeSetIds.map((changeSetId) =>
        database.db.transaction(async (tx) => {
          const rows = changeRows(changeSetId, 50);
          const inFlight = new InFlight();
          inFlight.send(insertChanges(tx, rows.slice(0, 25)));
          // The same record twice: the primary key refuses the whole statement.
          inFlight.send(
            insertChangeRecords(
              tx,
              [0, 0].map(() => ({ workspaceId: rows[0]!.workspaceId, changeSetId, recordId: '0', evidence: {} })),
            ),
          );
          inFlight.send(insertChanges(tx, rows.slice(25)));
          await inFlight.deliver();
          await inFlight.settled();
        }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(changeSetIds.map(() => 'rejected'));
    for (const changeSetId of changeSetIds) {
      expect(await database.db.select().from(changes).where(eq(changes.changeSetId, changeSetId))).toEqual([]);
      expect(await database.db.select().from(changeRecords).where(eq(changeRecords.changeSetId, changeSetId))).toEqual(
        [],
      );
    }
    const next = Array.from({ length: 10 }, () => newId());
    await Promise.all(
      next.map((changeSetId) => database.db.transaction((tx) => insertChanges(tx, changeRows(changeSetId, 3)))),
    );
    for (const changeSetId of next)
      expect(await database.db.select().from(changes).where(eq(changes.changeSetId, changeSetId))).toHaveLength(3);
  });
});
