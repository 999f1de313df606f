import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { claimIdempotencyKey, releaseAbandonedClaim } from '../../server/src/store/idempotency-store.ts';
import { createTestDatabase } from '../support/database.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

const key = () => ({ workspaceId: randomUUID(), agentId: randomUUID(), key: 'retry-1' });

describe('the claim of a request that died before deciding', () => {
  it('is freed once for the first retry that finds it abandoned, so it never blocks the key for ever', async () => {
    const k = key();
    const abandonedAt = new Date(Date.now() - 10 * 60_000);
    await claimIdempotencyKey(database.db, { ...k, requestHash: 'h', createdAt: abandonedAt });
    expect(await releaseAbandonedClaim(database.db, k, abandonedAt)).toBe(true);
    expect(await claimIdempotencyKey(database.db, { ...k, requestHash: 'h', createdAt: new Date() })).toEqual({ claimed: true });
  });

  it('is not freed by a second retry once the first retry claimed the key afresh: only one of them runs', async () => {
    const k = key();
    const abandonedAt = new Date(Date.now() - 10 * 60_000);
    await claimIdempotencyKey(database.db, { ...k, requestHash: 'h', createdAt: abandonedAt });
    // Both retries read the abandoned claim; the first frees it and claims the key.
    expect(await releaseAbandonedClaim(database.db, k, abandonedAt)).toBe(true);
    await claimIdempotencyKey(database.db, { ...k, requestHash: 'h', createdAt: new Date() });
    // The second, acting on what it read, must leave the live claim alone.
    expect(await releaseAbandonedClaim(database.db, k, abandonedAt)).toBe(false);
    expect(await claimIdempotencyKey(database.db, { ...k, requestHash: 'h', createdAt: new Date() })).toMatchObject({ claimed: false });
  });
});
