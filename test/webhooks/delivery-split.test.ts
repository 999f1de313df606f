import { count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HubSpotWebhookEvent } from '../../shared/hubspot-webhooks.ts';
import { startWebhookWorker, type WebhookWorker } from '../../server/src/jobs/webhook-worker.ts';
import { splitStoredDeliveries } from '../../server/src/services/webhooks/index.ts';
import { silentLogger } from '../../server/src/logger.ts';
import { webhookDeliveries, webhookEvents } from '../../server/src/store/schema.ts';
import { countPendingEvents, splitWebhookDeliveries } from '../../server/src/store/webhook-event-store.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { deliver, historyRows, propertyChange, seedWebhookWorkspace } from '../support/webhooks.ts';

// Intake stores a delivery whole and answers; its events are split into webhook_events behind the
// answer (issue 18). What HubSpot relies on must hold across that: each event stored once and
// processed once, whatever retries, restarts and servers there are.
describe('a delivery stored whole, split into events behind the answer', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());

  const deliveries = async () => (await harness.deps.db.select({ n: count() }).from(webhookDeliveries))[0]!.n;
  const events = async (workspaceId: string) =>
    (
      await harness.deps.db.select({ n: count() }).from(webhookEvents).where(eq(webhookEvents.workspaceId, workspaceId))
    )[0]!.n;

  it('is one row at the answer, counted as waiting, and its events stored once when split', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const batch = Array.from({ length: 100 }, (_, i) => propertyChange(ws.portalId, { objectId: 5000 + i }));
    const before = await countPendingEvents(harness.deps.db);

    expect((await deliver(harness, batch, { clientSecret: ws.clientSecret })).body).toMatchObject({ stored: 100 });
    // The answer came with the delivery stored and no event row yet: a crash here loses nothing.
    expect(await deliveries()).toBe(1);
    expect(await events(ws.workspaceId)).toBe(0);
    expect(await countPendingEvents(harness.deps.db)).toBe(before + 100);

    expect(await splitWebhookDeliveries(harness.deps.db, 100)).toBe(1);
    expect(await splitWebhookDeliveries(harness.deps.db, 100)).toBe(0);
    expect(await deliveries()).toBe(0);
    expect(await events(ws.workspaceId)).toBe(100);
    expect(await countPendingEvents(harness.deps.db)).toBe(before + 100);
  });

  it('split by several workers at once, stores each event of overlapping retries once', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const batch = Array.from({ length: 400 }, (_, i) => propertyChange(ws.portalId, { objectId: 6000 + i }));
    // HubSpot retries in whatever order: each retry holds the events in another order.
    const retries: HubSpotWebhookEvent[][] = Array.from({ length: 16 }, (_, r) =>
      batch.map((_, i) => ({ ...batch[r % 2 === 0 ? i : batch.length - 1 - i]!, attemptNumber: r })),
    );
    for (const retry of retries)
      expect((await deliver(harness, retry, { clientSecret: ws.clientSecret })).status).toBe(200);
    expect(await deliveries()).toBe(16);

    const split = await Promise.all(Array.from({ length: 16 }, () => splitWebhookDeliveries(harness.deps.db, 1)));

    expect(split.reduce((sum, n) => sum + n, 0)).toBe(16);
    expect(await deliveries()).toBe(0);
    expect(await events(ws.workspaceId)).toBe(400);
    const ids = await harness.deps.db.execute(
      sql`select count(distinct event_id)::int as n from webhook_events where workspace_id = ${ws.workspaceId}`,
    );
    expect((ids as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(400);
  });

  it('is split and processed by the worker the intake wakes, retries included, each event once', async () => {
    // A poll long enough that only the intake's wake can start the worker in time.
    let worker: WebhookWorker | undefined;
    const wakeHarness = await startHarness({ webhooks: { onStored: () => worker?.wake() } });
    try {
      worker = startWebhookWorker(wakeHarness.deps, { logger: silentLogger, pollMs: 600_000 });
      // The worker's first round finds nothing; then a delivery and its retry arrive.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const wsHere = await seedWebhookWorkspace(wakeHarness);
      const events = Array.from({ length: 30 }, (_, i) => propertyChange(wsHere.portalId, { objectId: 7000 + i }));
      await deliver(wakeHarness, events, { clientSecret: wsHere.clientSecret });
      await deliver(wakeHarness, events, { clientSecret: wsHere.clientSecret });
      await vi.waitFor(
        async () => expect(await historyRows(wakeHarness.deps.db, wsHere.workspaceId)).toHaveLength(30),
        {
          timeout: 20_000,
        },
      );
      await vi.waitFor(async () => expect(await countPendingEvents(wakeHarness.deps.db)).toBe(0), { timeout: 20_000 });
      expect(await historyRows(wakeHarness.deps.db, wsHere.workspaceId)).toHaveLength(30);
    } finally {
      await worker?.stop();
      await wakeHarness.close();
    }
  });

  it('leaves aside a delivery altered in the database, with why, and splits and processes the ones after it', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const first = [propertyChange(ws.portalId, { objectId: 8001 })];
    const second = [propertyChange(ws.portalId, { objectId: 8002 })];
    await deliver(harness, first, { clientSecret: ws.clientSecret });
    await deliver(harness, second, { clientSecret: ws.clientSecret });
    // The database's owner edits the first row: an event without its id, which no insert would take.
    await harness.deps.db.execute(
      sql`update webhook_deliveries set body = jsonb_build_array((body -> 0) - 'eventId') where id = (select min(id) from webhook_deliveries)`,
    );

    const logged: { message: string; fields?: Record<string, unknown> }[] = [];
    const worker = startWebhookWorker(harness.deps, {
      logger: { info() {}, error: (message, fields) => logged.push({ message, fields }) },
      pollMs: 50,
    });
    try {
      await vi.waitFor(async () => expect(await historyRows(harness.deps.db, ws.workspaceId)).toHaveLength(1), {
        timeout: 20_000,
      });
    } finally {
      await worker.stop();
    }

    expect(await historyRows(harness.deps.db, ws.workspaceId)).toEqual([expect.objectContaining({ recordId: '8002' })]);
    // The operator hears of it by the row's id and Postgres's code, never the row's values.
    expect(logged).toEqual([
      {
        message: 'webhook delivery set aside: it cannot be split',
        fields: { deliveryId: expect.any(Number), code: '23502' },
      },
    ]);
    const [aside] = await harness.deps.db.select({ problem: webhookDeliveries.splitProblem }).from(webhookDeliveries);
    expect(aside?.problem).toMatch(/event_id/);
    // Left aside, it is neither split again nor counted as waiting.
    expect(await splitStoredDeliveries(harness.deps)).toBe(0);
    const unprocessed = await harness.deps.db
      .select({ n: count() })
      .from(webhookEvents)
      .where(sql`${webhookEvents.processedAt} is null`);
    expect(await countPendingEvents(harness.deps.db)).toBe(unprocessed[0]!.n);
  });
});
