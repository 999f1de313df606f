import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { qaReviews } from './governance-schema.ts';

export type QaReviewRow = typeof qaReviews.$inferSelect;

export async function insertQaReviews(db: Db | Tx, rows: (typeof qaReviews.$inferInsert)[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insert(qaReviews).values(rows).onConflictDoNothing();
}

export async function listQaReviews(
  db: Db,
  workspaceId: string,
  filter: { status?: QaReviewRow['status'] | undefined; agentId?: string | undefined; limit: number },
): Promise<QaReviewRow[]> {
  const where: SQL[] = [eq(qaReviews.workspaceId, workspaceId)];
  if (filter.status) where.push(eq(qaReviews.status, filter.status));
  if (filter.agentId) where.push(eq(qaReviews.agentId, filter.agentId));
  return db
    .select()
    .from(qaReviews)
    .where(and(...where))
    .orderBy(desc(qaReviews.sampledAt), desc(qaReviews.id))
    .limit(filter.limit);
}

export async function lockQaReview(tx: Tx, workspaceId: string, id: string): Promise<QaReviewRow | undefined> {
  const [row] = await tx
    .select()
    .from(qaReviews)
    .where(and(eq(qaReviews.workspaceId, workspaceId), eq(qaReviews.id, id)))
    .for('update');
  return row;
}

export async function recordVerdict(
  tx: Tx,
  id: string,
  verdict: {
    status: 'correct' | 'wrong';
    reviewedBy: string;
    reviewedAt: Date;
    note: string | null;
    rollbackId: string | null;
  },
): Promise<void> {
  await tx.update(qaReviews).set(verdict).where(eq(qaReviews.id, id));
}

export async function reviewCounts(
  db: Db,
  workspaceId: string,
): Promise<{ agentId: string; status: QaReviewRow['status']; n: number }[]> {
  return db
    .select({ agentId: qaReviews.agentId, status: qaReviews.status, n: count() })
    .from(qaReviews)
    .where(eq(qaReviews.workspaceId, workspaceId))
    .groupBy(qaReviews.agentId, qaReviews.status);
}
