import { and, asc, eq, gt, inArray, isNull, lt, notInArray, or, sql } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { ROLLBACK_ITEM_STATES, rollbackItems, rollbacks } from './rollback-schema.ts';
import { changes } from './schema.ts';

export type RollbackRow = typeof rollbacks.$inferSelect;
export type NewRollbackRow = typeof rollbacks.$inferInsert;
export type RollbackItemRow = typeof rollbackItems.$inferSelect;
export type RollbackItemState = (typeof ROLLBACK_ITEM_STATES)[number];

/** What a rollback step reads of an item: PGlite parses every column it returns, so no more. */
const STEP_COLUMNS = {
  seq: rollbackItems.seq,
  objectType: rollbackItems.objectType,
  recordId: rollbackItems.recordId,
  property: rollbackItems.property,
  changeIds: rollbackItems.changeIds,
  selectedFrom: rollbackItems.selectedFrom,
  restoreValue: rollbackItems.restoreValue,
  expectedValue: rollbackItems.expectedValue,
  revertChangeId: rollbackItems.revertChangeId,
  attempts: rollbackItems.attempts,
};
export type StepItem = Pick<RollbackItemRow, keyof typeof STEP_COLUMNS>;

/** Inserts the rollback unless one with the same selector key is still active; returns whether it was inserted. */
export async function insertRollback(tx: Tx, row: NewRollbackRow): Promise<boolean> {
  // The partial unique index decides: a concurrent insert of the same key waits for ours, then does nothing.
  const inserted = await tx.insert(rollbacks).values(row).onConflictDoNothing().returning({ id: rollbacks.id });
  return inserted.length === 1;
}

export async function findActiveRollback(
  db: Db | Tx,
  workspaceId: string,
  selectorKey: string,
): Promise<RollbackRow | undefined> {
  const [row] = await db
    .select()
    .from(rollbacks)
    .where(
      and(
        eq(rollbacks.workspaceId, workspaceId),
        eq(rollbacks.selectorKey, selectorKey),
        sql`${rollbacks.status} <> 'completed'`,
      ),
    );
  return row;
}

export async function findRollback(db: Db | Tx, workspaceId: string, id: string): Promise<RollbackRow | undefined> {
  const [row] = await db
    .select()
    .from(rollbacks)
    .where(and(eq(rollbacks.workspaceId, workspaceId), eq(rollbacks.id, id)));
  return row;
}

/** The rollback row locked for this transaction, in any state. */
export async function lockRollback(tx: Tx, workspaceId: string, id: string): Promise<RollbackRow | undefined> {
  const [row] = await tx
    .select()
    .from(rollbacks)
    .where(and(eq(rollbacks.workspaceId, workspaceId), eq(rollbacks.id, id)))
    .for('update');
  return row;
}

export async function updateRollback(
  tx: Tx,
  id: string,
  set: Partial<
    Pick<
      RollbackRow,
      'status' | 'statusReason' | 'total' | 'changeSetIds' | 'leaseHolder' | 'leaseExpiresAt' | 'completedAt'
    >
  >,
): Promise<void> {
  await tx.update(rollbacks).set(set).where(eq(rollbacks.id, id));
}

/**
 * Claims a running rollback nobody holds (or whose holder's lease ran out: it died) for `holder`
 * until `until`. With `only`, only that rollback; `staleHolder` names a holder known to be dead; `except` leaves
 * out workspaces. SKIP LOCKED lets any number of workers poll at once.
 */
export async function claimRollback(
  db: Db,
  query: {
    holder: string;
    now: Date;
    until: Date;
    only?: { workspaceId: string; id: string };
    staleHolder?: string;
    except?: readonly string[];
  },
): Promise<RollbackRow | undefined> {
  return db.transaction(async (tx) => {
    const free = or(
      isNull(rollbacks.leaseExpiresAt),
      lt(rollbacks.leaseExpiresAt, query.now),
      eq(rollbacks.leaseHolder, query.holder),
      ...(query.staleHolder ? [eq(rollbacks.leaseHolder, query.staleHolder)] : []),
    );
    const [row] = await tx
      .select()
      .from(rollbacks)
      .where(
        and(
          eq(rollbacks.status, 'running'),
          free,
          ...(query.only ? [eq(rollbacks.workspaceId, query.only.workspaceId), eq(rollbacks.id, query.only.id)] : []),
          ...(query.except?.length ? [notInArray(rollbacks.workspaceId, [...query.except])] : []),
        ),
      )
      .orderBy(asc(rollbacks.createdAt))
      .limit(1)
      .for('update', { skipLocked: true });
    if (!row) return undefined;
    await tx
      .update(rollbacks)
      .set({ leaseHolder: query.holder, leaseExpiresAt: query.until })
      .where(eq(rollbacks.id, row.id));
    return { ...row, leaseHolder: query.holder, leaseExpiresAt: query.until };
  });
}

/** Extends the lease if this holder still has it; false means another worker took over. */
export async function renewLease(db: Db, query: { id: string; holder: string; until: Date }): Promise<boolean> {
  const renewed = await db
    .update(rollbacks)
    .set({ leaseExpiresAt: query.until })
    .where(and(eq(rollbacks.id, query.id), eq(rollbacks.leaseHolder, query.holder)))
    .returning({ id: rollbacks.id });
  return renewed.length === 1;
}

/** A rollback's items not yet settled (pending, or marked and being written) past `afterSeq`. */
function unsettledAfter(query: { rollbackId: string; afterSeq: number }) {
  return and(
    eq(rollbackItems.rollbackId, query.rollbackId),
    gt(rollbackItems.seq, query.afterSeq),
    inArray(rollbackItems.state, ['pending', 'writing']),
  );
}

/** The object type of the first unsettled item after `afterSeq`, in plan order: the next step's (its CRM sets its size). */
export async function nextUnsettledObjectType(
  db: Db | Tx,
  query: { rollbackId: string; afterSeq: number },
): Promise<string | undefined> {
  const [first] = await db
    .select({ objectType: rollbackItems.objectType })
    .from(rollbackItems)
    .where(unsettledAfter(query))
    .orderBy(asc(rollbackItems.seq))
    .limit(1);
  return first?.objectType;
}

/**
 * The unsettled items of the next `maxRecords` records after `afterSeq`, in plan order (the
 * primary key's): a pass walks the items once instead of sorting what is left at every step.
 * Items of a record are consecutive, so the page ends where record `maxRecords + 1` begins; the
 * database finds that seq by walking the key forward and stops there, so a step reads its own
 * items, not the rest of the rollback. At most `maxItems` items are looked at: a page cut short
 * by that limit drops the record it ends in (it leads the next page), unless it is the only one.
 */
export async function nextUnsettledItems(
  db: Db | Tx,
  query: { rollbackId: string; afterSeq: number; maxRecords: number; maxItems: number },
): Promise<StepItem[]> {
  const unsettled = unsettledAfter(query);
  const ahead = db
    .select({ seq: rollbackItems.seq, objectType: rollbackItems.objectType, recordId: rollbackItems.recordId })
    .from(rollbackItems)
    .where(unsettled)
    .orderBy(asc(rollbackItems.seq))
    .limit(query.maxItems)
    .as('ahead');
  const starts = db
    .select({
      seq: ahead.seq,
      startsRecord:
        sql<boolean>`(${ahead.objectType}, ${ahead.recordId}) is distinct from lag((${ahead.objectType}, ${ahead.recordId})) over (order by ${ahead.seq})`.as(
          'starts_record',
        ),
    })
    .from(ahead)
    .as('starts');
  const [end] = await db
    .select({ seq: starts.seq })
    .from(starts)
    .where(sql`${starts.startsRecord}`)
    .orderBy(asc(starts.seq))
    .offset(query.maxRecords)
    .limit(1);
  const items = await db
    .select(STEP_COLUMNS)
    .from(rollbackItems)
    .where(end ? and(unsettled, lt(rollbackItems.seq, end.seq)) : unsettled)
    .orderBy(asc(rollbackItems.seq))
    .limit(query.maxItems);
  if (end || items.length < query.maxItems) return items;
  const last = items.at(-1)!;
  const whole = items.filter((item) => item.objectType !== last.objectType || item.recordId !== last.recordId);
  return whole.length > 0 ? whole : items;
}

export interface ItemUpdate {
  seq: number;
  state: RollbackItemState;
  valueFound: string | null;
  revertChangeId: string | null;
  forced: boolean;
  conflict: unknown;
  message: string | null;
  attempts: number;
  settled: boolean;
}

/** Updates many items of one rollback in one statement (one row of arrays per column). */
export async function updateItems(
  tx: Tx,
  rollbackId: string,
  updates: readonly ItemUpdate[],
  now: Date,
): Promise<void> {
  if (updates.length === 0) return;
  const column = <T>(pick: (u: ItemUpdate) => T) => sql.param(updates.map(pick));
  await tx.execute(sql`
    update rollback_items as i set
      state = u.state, value_found = u.value_found, revert_change_id = u.revert_change_id, forced = u.forced,
      conflict = u.conflict, message = u.message, attempts = u.attempts,
      settled_at = case when u.settled then ${now.toISOString()}::timestamptz else null end
    from unnest(
      ${column((u) => u.seq)}::integer[], ${column((u) => u.state)}::text[], ${column((u) => u.valueFound)}::text[],
      ${column((u) => u.revertChangeId)}::uuid[], ${column((u) => u.forced)}::boolean[],
      ${column((u) => (u.conflict === null ? null : JSON.stringify(u.conflict)))}::jsonb[], ${column((u) => u.message)}::text[],
      ${column((u) => u.attempts)}::integer[], ${column((u) => u.settled)}::boolean[]
    ) as u(seq, state, value_found, revert_change_id, forced, conflict, message, attempts, settled)
    where i.rollback_id = ${rollbackId} and i.seq = u.seq
      -- The step's own range of the key: the join then reads a page of items, whatever the planner makes of the rest.
      and i.seq between ${Math.min(...updates.map((u) => u.seq))} and ${Math.max(...updates.map((u) => u.seq))}`);
}

export async function countItemsByState(db: Db | Tx, rollbackId: string): Promise<Record<RollbackItemState, number>> {
  const rows = await db
    .select({ state: rollbackItems.state, count: sql<number>`count(*)::int` })
    .from(rollbackItems)
    .where(eq(rollbackItems.rollbackId, rollbackId))
    .groupBy(rollbackItems.state);
  const counts = Object.fromEntries(ROLLBACK_ITEM_STATES.map((state) => [state, 0])) as Record<
    RollbackItemState,
    number
  >;
  for (const row of rows) counts[row.state] = row.count;
  return counts;
}

/** Items in plan order, a page at a time after `afterSeq`: the report streams them. */
export async function itemsPage(
  db: Db,
  query: { rollbackId: string; afterSeq: number; limit: number },
): Promise<RollbackItemRow[]> {
  return db
    .select()
    .from(rollbackItems)
    .where(and(eq(rollbackItems.rollbackId, query.rollbackId), gt(rollbackItems.seq, query.afterSeq)))
    .orderBy(asc(rollbackItems.seq))
    .limit(query.limit);
}

/**
 * Settles the rollback's own change rows of items decided without a write: an attempt made
 * before (perhaps landed before a crash) that is now found written is `applied`, one that is not
 * is `failed`, so the rollback's change set says what it did (and undoing it finds its writes).
 */
export async function settleAttemptedChanges(
  tx: Tx,
  query: { applied: readonly string[]; notWritten: readonly string[] },
): Promise<void> {
  if (query.applied.length > 0) {
    await tx
      .update(changes)
      .set({ decision: 'applied', message: null })
      .where(and(inArray(changes.id, [...query.applied]), eq(changes.decision, 'applying')));
  }
  if (query.notWritten.length > 0) {
    await tx
      .update(changes)
      .set({ decision: 'failed', message: 'Not written: the field no longer held the value the rollback expected.' })
      .where(and(inArray(changes.id, [...query.notWritten]), eq(changes.decision, 'applying')));
  }
}
