import { and, eq, isNull } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';
import { idempotencyKeys } from './schema.ts';

type Key = { workspaceId: string; agentId: string; key: string };
export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

/** Claims the key for this request; returns the existing row instead when someone already holds it. */
export async function claimIdempotencyKey(
  db: Db,
  row: Key & { requestHash: string; createdAt: Date; leaseExpiresAt: Date },
): Promise<{ claimed: true } | { claimed: false; existing: IdempotencyRow }> {
  const inserted = await db
    .insert(idempotencyKeys)
    .values(row)
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (inserted.length > 0) return { claimed: true };
  const existing = await findIdempotencyKey(db, row);
  if (!existing) return claimIdempotencyKey(db, row); // released between our insert and select
  return { claimed: false, existing };
}

/** The key's row, if a request claimed it. */
export async function findIdempotencyKey(db: Db | Tx, key: Key): Promise<IdempotencyRow | undefined> {
  const [row] = await db.select().from(idempotencyKeys).where(matches(key));
  return row;
}

export async function attachChangeSet(db: Db | Tx, key: Key, changeSetId: string): Promise<void> {
  await db.update(idempotencyKeys).set({ changeSetId }).where(matches(key));
}

/** A request that failed before storing anything gives its key back, so the agent's retry runs afresh. */
export async function releaseIdempotencyKey(db: Db, key: Key): Promise<void> {
  await db.delete(idempotencyKeys).where(matches(key));
}

function matches(key: Key) {
  return and(
    eq(idempotencyKeys.workspaceId, key.workspaceId),
    eq(idempotencyKeys.agentId, key.agentId),
    eq(idempotencyKeys.key, key.key),
  );
}

/**
 * Gives back the claim of a request that died before deciding, only if it is still that very
 * claim: two retries that both found it abandoned must not each free the key and both run.
 * Returns whether this caller freed it.
 */
export async function releaseAbandonedClaim(db: Db, key: Key, claimedAt: Date): Promise<boolean> {
  const released = await db
    .delete(idempotencyKeys)
    .where(and(matches(key), isNull(idempotencyKeys.changeSetId), eq(idempotencyKeys.createdAt, claimedAt)))
    .returning({ key: idempotencyKeys.key });
  return released.length === 1;
}

/** Keeps a claim alive while its request reads and validates; false once the claim is no longer this one's to renew. */
export async function renewIdempotencyClaim(db: Db, key: Key, claimedAt: Date, until: Date): Promise<boolean> {
  const renewed = await db
    .update(idempotencyKeys)
    .set({ leaseExpiresAt: until })
    .where(and(matches(key), isNull(idempotencyKeys.changeSetId), eq(idempotencyKeys.createdAt, claimedAt)))
    .returning({ key: idempotencyKeys.key });
  return renewed.length === 1;
}
