import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { governanceRequests } from './governance-schema.ts';

export type GovernanceRequestRow = typeof governanceRequests.$inferSelect;

export async function insertGovernanceRequest(tx: Tx, row: typeof governanceRequests.$inferInsert): Promise<void> {
  await tx.insert(governanceRequests).values(row);
}

export async function lockGovernanceRequest(
  tx: Tx,
  workspaceId: string,
  id: string,
): Promise<GovernanceRequestRow | undefined> {
  const [row] = await tx
    .select()
    .from(governanceRequests)
    .where(and(eq(governanceRequests.workspaceId, workspaceId), eq(governanceRequests.id, id)))
    .for('update');
  return row;
}

export async function settleGovernanceRequest(
  tx: Tx,
  id: string,
  outcome: { status: 'confirmed' | 'cancelled'; decidedBy: string; decidedAt: Date },
): Promise<void> {
  await tx
    .update(governanceRequests)
    .set({ ...outcome, confirmingUntil: null })
    .where(eq(governanceRequests.id, id));
}

/** Holds a pending request while its confirmation takes effect (`until`), or frees it (`null`). */
export async function holdGovernanceRequest(tx: Tx, id: string, until: Date | null): Promise<void> {
  await tx.update(governanceRequests).set({ confirmingUntil: until }).where(eq(governanceRequests.id, id));
}

/** Replaces what a request asks for: an erasure's settled request keeps no email address. */
export async function replaceGovernancePayload(db: Db, id: string, payload: unknown): Promise<void> {
  await db.update(governanceRequests).set({ payload }).where(eq(governanceRequests.id, id));
}

export async function listGovernanceRequests(
  db: Db,
  workspaceId: string,
  status?: GovernanceRequestRow['status'],
): Promise<GovernanceRequestRow[]> {
  const where: SQL[] = [eq(governanceRequests.workspaceId, workspaceId)];
  if (status) where.push(eq(governanceRequests.status, status));
  return db
    .select()
    .from(governanceRequests)
    .where(and(...where))
    .orderBy(desc(governanceRequests.requestedAt))
    .limit(200);
}
