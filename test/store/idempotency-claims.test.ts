import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import {
  claimIdempotencyKey,
  releaseAbandonedClaim,
  renewIdempotencyClaim,
} from '../../server/src/store/idempotency-store.ts';
import { createTestDatabase } from '../support/database.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

const key = () => ({ workspaceId: randomUUID(), agentId: randomUUID(), key: 'retry-1' });

describe('the claim of a request that died before deciding', () => {
  it('is renewed by the request holding it, and no longer once another took the key', async () => {
    const k = key();
    const claimedAt = new Date();
    await claimIdempotencyKey(database.db, {
      ...k,
      requestHash: 'h',
      createdAt: claimedAt,
      leaseExpiresAt: new Date(claimedAt.getTime() + 1_000),
    });
    expect(await renewIdempotencyClaim(database.db, k, claimedAt, new Date(claimedAt.getTime() + 30_000))).toBe(true);
    expect(await releaseAbandonedClaim(database.db, k, claimedAt)).toBe(true);
    await claimIdempotencyKey(database.db, {
      ...k,
      requestHash: 'h',
      createdAt: new Date(claimedAt.getTime() + 1),
      leaseExpiresAt: new Date(claimedAt.getTime() + 30_000),
    });
    expect(await renewIdempotencyClaim(database.db, k, claimedAt, new Date(claimedAt.getTime() + 60_000))).toBe(false);
  });

  it('is freed once for the first retry that finds it abandoned, so it never blocks the key for ever', async () => {
    const k = key();
    const abandonedAt = new Date(Date.now() - 10 * 60_000);
    await claimIdempotencyKey(database.db, {
      ...k,
      requestHash: 'h',
      createdAt: abandonedAt,
      leaseExpiresAt: abandonedAt,
    });
    expect(await releaseAbandonedClaim(database.db, k, abandonedAt)).toBe(true);
    expect(
      await claimIdempotencyKey(database.db, {
        ...k,
        requestHash: 'h',
        createdAt: new Date(),
        leaseExpiresAt: new Date(Date.now() + 30_000),
      }),
    ).toEqual({ claimed: true });
  });

  it('is not freed by a second retry once the first retry claimed the key afresh: only one of them runs', async () => {
    const k = key();
    const abandonedAt = new Date(Date.now() - 10 * 60_000);
    await claimIdempotencyKey(database.db, {
      ...k,
      requestHash: 'h',
      createdAt: abandonedAt,
      leaseExpiresAt: abandonedAt,
    });
    // Both retries read the abandoned claim; the first frees it and claims the key.
    expect(await releaseAbandonedClaim(database.db, k, abandonedAt)).toBe(true);
    await claimIdempotencyKey(database.db, {
      ...k,
      requestHash: 'h',
      createdAt: new Date(),
      leaseExpiresAt: new Date(Date.now() + 30_000),
    });
    // The second, acting on what it read, must leave the live claim alone.
    expect(await releaseAbandonedClaim(database.db, k, abandonedAt)).toBe(false);
    expect(
      await claimIdempotencyKey(database.db, {
        ...k,
        requestHash: 'h',
        createdAt: new Date(),
        leaseExpiresAt: new Date(Date.now() + 30_000),
      }),
    ).toMatchObject({ claimed: false });
  });
});
