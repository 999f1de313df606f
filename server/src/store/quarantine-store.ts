import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, lte, notInArray, or, sql } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { changes, changeSets, quarantines, recordAssociations, recordCreations, recordReviews } from './schema.ts';

export type QuarantineRow = typeof quarantines.$inferSelect;
export type RecordReviewRow = typeof recordReviews.$inferSelect;

export async function insertQuarantine(tx: Tx, row: QuarantineRow): Promise<void> {
  await tx.insert(quarantines).values(row);
}

/** Takes one unfinished quarantine whose lease is free (new, or left by a process that died). */
export async function claimQuarantine(
  db: Db,
  query: { holder: string; now: Date; until: Date; except?: readonly string[] },
): Promise<QuarantineRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(quarantines)
      .where(
        and(
          sql`${quarantines.status} <> 'completed'`,
          or(isNull(quarantines.leaseExpiresAt), lt(quarantines.leaseExpiresAt, query.now)),
          query.except?.length ? notInArray(quarantines.workspaceId, [...query.except]) : undefined,
        ),
      )
      .orderBy(asc(quarantines.createdAt))
      .limit(1)
      .for('update', { skipLocked: true });
    if (!row) return undefined;
    await tx
      .update(quarantines)
      .set({ leaseHolder: query.holder, leaseExpiresAt: query.until })
      .where(eq(quarantines.id, row.id));
    return { ...row, leaseHolder: query.holder, leaseExpiresAt: query.until };
  });
}

/** Renews the lease while its holder still has it; false when another process took the quarantine over. */
export async function renewQuarantineLease(
  db: Db | Tx,
  query: { id: string; holder: string; until: Date },
): Promise<boolean> {
  const renewed = await db
    .update(quarantines)
    .set({ leaseExpiresAt: query.until })
    .where(and(eq(quarantines.id, query.id), eq(quarantines.leaseHolder, query.holder)))
    .returning({ id: quarantines.id });
  return renewed.length > 0;
}

export async function setQuarantineStatus(
  tx: Tx,
  id: string,
  status: QuarantineRow['status'],
  completedAt: Date | null = null,
): Promise<void> {
  await tx
    .update(quarantines)
    .set({ status, completedAt, ...(status === 'completed' ? { leaseHolder: null, leaseExpiresAt: null } : {}) })
    .where(eq(quarantines.id, id));
}

/**
 * The records an agent wrote between `since` and `until`: values applied by its change sets
 * (decided then, or approved later), records it created, and records it linked to another (issue 21).
 */
export async function recordsWrittenBy(
  db: Db | Tx,
  query: { workspaceId: string; agentId: string; since: Date; until: Date },
): Promise<{ objectType: string; recordId: string }[]> {
  const inWindow = and(
    eq(changeSets.workspaceId, query.workspaceId),
    eq(changeSets.agentId, query.agentId),
    gte(changeSets.createdAt, query.since),
    lte(changeSets.createdAt, query.until),
  );
  const written = await db
    .selectDistinct({ objectType: changeSets.objectType, recordId: changes.recordId })
    .from(changes)
    .innerJoin(changeSets, eq(changeSets.id, changes.changeSetId))
    .where(and(eq(changes.workspaceId, query.workspaceId), eq(changes.decision, 'applied'), inWindow));
  const created = await db
    .selectDistinct({ objectType: recordCreations.objectType, recordId: recordCreations.recordId })
    .from(recordCreations)
    .innerJoin(changeSets, eq(changeSets.id, recordCreations.changeSetId))
    .where(
      and(
        eq(recordCreations.workspaceId, query.workspaceId),
        isNotNull(recordCreations.recordId),
        isNull(recordCreations.rolledBackBy),
        inWindow,
      ),
    );
  const linked = await db
    .selectDistinct({ objectType: recordAssociations.objectType, recordId: recordAssociations.recordId })
    .from(recordAssociations)
    .innerJoin(changeSets, eq(changeSets.id, recordAssociations.changeSetId))
    .where(
      and(
        eq(recordAssociations.workspaceId, query.workspaceId),
        eq(recordAssociations.decision, 'applied'),
        eq(recordAssociations.alreadyLinked, false),
        isNull(recordAssociations.rolledBackBy),
        inWindow,
      ),
    );
  const all = [
    ...written,
    ...linked,
    ...created.flatMap((row) => (row.recordId ? [{ objectType: row.objectType, recordId: row.recordId }] : [])),
  ];
  // A record the agent both wrote and linked is one record to review.
  return [...new Map(all.map((record) => [`${record.objectType}:${record.recordId}`, record])).values()];
}

/** Adds reviews; a record already waiting for review keeps the review it has. */
export async function insertReviews(tx: Tx, rows: readonly RecordReviewRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx
    .insert(recordReviews)
    .values([...rows])
    .onConflictDoNothing({
      target: [recordReviews.workspaceId, recordReviews.objectType, recordReviews.recordId],
      where: sql`cleared_at IS NULL`,
    });
}

/** Reviews of this quarantine not yet marked in the CRM (nor cleared meanwhile), of one object type at a time. */
export async function unmarkedReviews(db: Db, quarantineId: string, limit: number): Promise<RecordReviewRow[]> {
  return db
    .select()
    .from(recordReviews)
    .where(
      and(
        eq(recordReviews.quarantineId, quarantineId),
        eq(recordReviews.crmMarked, false),
        isNull(recordReviews.clearedAt),
      ),
    )
    .orderBy(asc(recordReviews.objectType), asc(recordReviews.recordId))
    .limit(limit);
}

export async function setReviewsMarked(tx: Tx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .update(recordReviews)
    .set({ crmMarked: true })
    .where(inArray(recordReviews.id, [...ids]));
}

/** Reviews cleared while the CRM still shows the record as needing review (of one workspace, or of any). */
const toUnmark = () =>
  and(isNotNull(recordReviews.clearedAt), eq(recordReviews.crmMarked, true), eq(recordReviews.crmCleared, false));

export async function reviewsToUnmark(db: Db, limit: number, workspaceId?: string): Promise<RecordReviewRow[]> {
  return db
    .select()
    .from(recordReviews)
    .where(and(toUnmark(), ...(workspaceId ? [eq(recordReviews.workspaceId, workspaceId)] : [])))
    .orderBy(asc(recordReviews.workspaceId), asc(recordReviews.objectType))
    .limit(limit);
}

/** Workspaces with cleared reviews whose CRM mark is still set, but those in `except`. */
export async function workspacesWithReviewsToUnmark(
  db: Db,
  query: { except: readonly string[]; limit: number },
): Promise<string[]> {
  const rows = await db
    .selectDistinct({ workspaceId: recordReviews.workspaceId })
    .from(recordReviews)
    .where(
      and(toUnmark(), query.except.length > 0 ? notInArray(recordReviews.workspaceId, [...query.except]) : undefined),
    )
    .limit(query.limit);
  return rows.map((row) => row.workspaceId);
}

export async function setReviewsUnmarked(db: Db | Tx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(recordReviews)
    .set({ crmCleared: true })
    .where(inArray(recordReviews.id, [...ids]));
}

/** Open reviews of the workspace, newest first; or of one record (the card). */
export async function openReviews(
  db: Db | Tx,
  query: { workspaceId: string; objectType?: string; recordIds?: readonly string[]; limit?: number },
): Promise<RecordReviewRow[]> {
  return db
    .select()
    .from(recordReviews)
    .where(
      and(
        eq(recordReviews.workspaceId, query.workspaceId),
        isNull(recordReviews.clearedAt),
        ...(query.objectType ? [eq(recordReviews.objectType, query.objectType)] : []),
        ...(query.recordIds ? [inArray(recordReviews.recordId, [...query.recordIds])] : []),
      ),
    )
    .orderBy(desc(recordReviews.markedAt), asc(recordReviews.recordId))
    .limit(query.limit ?? 500);
}

/** Clears the open reviews of these records; returns those it cleared. */
export async function clearReviews(
  tx: Tx,
  query: { workspaceId: string; objectType: string; recordIds: readonly string[]; clearedBy: string; at: Date },
): Promise<RecordReviewRow[]> {
  if (query.recordIds.length === 0) return [];
  return tx
    .update(recordReviews)
    .set({ clearedAt: query.at, clearedBy: query.clearedBy })
    .where(
      and(
        eq(recordReviews.workspaceId, query.workspaceId),
        eq(recordReviews.objectType, query.objectType),
        inArray(recordReviews.recordId, [...query.recordIds]),
        isNull(recordReviews.clearedAt),
      ),
    )
    .returning();
}
