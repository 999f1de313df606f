import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processWebhookEvents } from '../../server/src/services/webhooks/index.ts';
import { webhookEvents } from '../../server/src/store/schema.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import {
  deliver,
  historyRows,
  propertyChange,
  seedWebhookWorkspace,
  splitDeliveries,
  storedEventCount,
} from '../support/webhooks.ts';

describe('POST /webhooks/hubspot, accepted deliveries', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());
  async function drain() {
    while ((await processWebhookEvents(harness.deps)) > 0);
  }

  it('stores a signed batch of 100 events with what HubSpot sent and answers with the counts', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const events = Array.from({ length: 100 }, (_, i) =>
      propertyChange(ws.portalId, { objectId: 2000 + i, propertyValue: `Title ${i}` }),
    );

    const response = await deliver(harness, events, { clientSecret: ws.clientSecret });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: 100, stored: 100, duplicates: 0, unknownPortal: 0, rejected: [] });
    await splitDeliveries(harness.deps.db);
    const rows = await harness.deps.db
      .select()
      .from(webhookEvents)
      .where(eq(webhookEvents.workspaceId, ws.workspaceId))
      .orderBy(webhookEvents.eventId);
    expect(rows).toHaveLength(100);
    expect(rows[0]).toMatchObject({
      eventId: events[0]!.eventId,
      subscriptionType: 'contact.propertyChange',
      objectId: '2000',
      propertyName: 'jobtitle',
      propertyValue: 'Title 0',
      changeSource: 'CRM_UI',
      sourceId: 'userId:9001',
      processedAt: null,
    });
    expect(rows[0]!.occurredAt.getTime()).toBe(events[0]!.occurredAt);
    expect(rows[0]!.payload).toEqual(events[0]);
  });

  it('stores and processes an event delivered ten times once', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const event = propertyChange(ws.portalId);
    const answers = [];
    for (let attempt = 0; attempt < 10; attempt++)
      answers.push(await deliver(harness, [{ ...event, attemptNumber: attempt }], { clientSecret: ws.clientSecret }));

    // Each delivery is stored whole before the answer; a retry's event is dropped when split.
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(answers.map((a) => a.body?.duplicates)).toEqual(Array(10).fill(0));
    await drain();
    expect(await storedEventCount(harness.deps.db, ws.workspaceId)).toBe(1);
    expect(await historyRows(harness.deps.db, ws.workspaceId)).toHaveLength(1);
    const [row] = await harness.deps.db
      .select()
      .from(webhookEvents)
      .where(eq(webhookEvents.workspaceId, ws.workspaceId));
    // The first delivery's event is the one kept.
    expect(row).toMatchObject({ payload: { attemptNumber: 0 }, outcome: 'person', processedAt: expect.any(Date) });
  });

  it('stores and processes the new events of a delivery that repeats some already stored, each once', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const events = Array.from({ length: 10 }, (_, i) => propertyChange(ws.portalId, { objectId: 3000 + i }));
    await deliver(harness, events.slice(0, 4), { clientSecret: ws.clientSecret });
    await drain();

    const response = await deliver(harness, events, { clientSecret: ws.clientSecret });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ received: 10, stored: 10, duplicates: 0 });
    await drain();
    const rows = await harness.deps.db
      .select({ eventId: webhookEvents.eventId, objectId: webhookEvents.objectId })
      .from(webhookEvents)
      .where(eq(webhookEvents.workspaceId, ws.workspaceId))
      .orderBy(webhookEvents.eventId);
    expect(rows).toEqual(events.map((event) => ({ eventId: event.eventId, objectId: String(event.objectId) })));
    expect(await historyRows(harness.deps.db, ws.workspaceId)).toHaveLength(10);
  });

  it('stores an event that a delivery holds twice once, and says so', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const event = propertyChange(ws.portalId);
    const response = await deliver(harness, [event, { ...event, attemptNumber: 1 }], { clientSecret: ws.clientSecret });

    expect(response.body).toMatchObject({ received: 2, stored: 1, duplicates: 1 });
    expect(await storedEventCount(harness.deps.db, ws.workspaceId)).toBe(1);
  });

  it('stores and processes ten concurrent retries of the same batch once', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const events = Array.from({ length: 20 }, (_, i) => propertyChange(ws.portalId, { objectId: 4000 + i }));
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => deliver(harness, events, { clientSecret: ws.clientSecret })),
    );

    expect(answers.every((a) => a.status === 200)).toBe(true);
    await drain();
    expect(await storedEventCount(harness.deps.db, ws.workspaceId)).toBe(20);
    expect(await historyRows(harness.deps.db, ws.workspaceId)).toHaveLength(20);
  });

  it('keeps the valid events of a batch that holds one element that is not an event', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const good = propertyChange(ws.portalId);
    const response = await deliver(harness, [good, { portalId: ws.portalId, hello: 'world' }], {
      clientSecret: ws.clientSecret,
    });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      received: 2,
      stored: 1,
      rejected: [{ index: 1, problem: expect.stringContaining('eventId') }],
    });
    expect(await storedEventCount(harness.deps.db, ws.workspaceId)).toBe(1);
  });

  it('stores events of an unknown subscription type, to be marked ignored when processed', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const response = await deliver(
      harness,
      [propertyChange(ws.portalId, { subscriptionType: 'conversation.newMessage' })],
      { clientSecret: ws.clientSecret },
    );

    expect(response.body).toMatchObject({ stored: 1 });
  });

  it('answers an empty array with nothing stored', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const response = await deliver(harness, [], { clientSecret: ws.clientSecret, body: '[]' });
    // An empty array names no portal, so no workspace secret can verify it: refused like any unverifiable body.
    expect(response.status).toBe(401);
    expect(await storedEventCount(harness.deps.db, ws.workspaceId)).toBe(0);
  });
});

describe('POST /webhooks/hubspot with an app-level client secret', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ webhooks: { appClientSecret: 'app-secret' } });
  });
  afterAll(() => harness.close());

  it('accepts events signed with the app secret for a workspace that has no secret of its own', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const response = await deliver(harness, [propertyChange(ws.portalId)], { clientSecret: 'app-secret' });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ stored: 1 });
  });

  it('skips events of a portal no workspace is connected to, stores the rest, and counts them', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const before = await storedEventCount(harness.deps.db);
    const response = await deliver(harness, [propertyChange(ws.portalId), propertyChange(99_999_999)], {
      clientSecret: 'app-secret',
    });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ received: 2, stored: 1, unknownPortal: 1 });
    expect(await storedEventCount(harness.deps.db)).toBe(before + 1);
  });

  it('stores each event of a delivery naming two connected portals in its own portal’s workspace', async () => {
    const first = await seedWebhookWorkspace(harness);
    const second = await seedWebhookWorkspace(harness);
    const events = [propertyChange(first.portalId), propertyChange(second.portalId), propertyChange(first.portalId)];
    const response = await deliver(harness, events, { clientSecret: 'app-secret' });

    expect(response.body).toMatchObject({ received: 3, stored: 3 });
    await splitDeliveries(harness.deps.db);
    const stored = await harness.deps.db
      .select({ workspaceId: webhookEvents.workspaceId, eventId: webhookEvents.eventId })
      .from(webhookEvents)
      .where(
        inArray(
          webhookEvents.eventId,
          events.map((event) => event.eventId),
        ),
      )
      .orderBy(webhookEvents.eventId);
    expect(stored).toEqual([
      { workspaceId: first.workspaceId, eventId: events[0]!.eventId },
      { workspaceId: second.workspaceId, eventId: events[1]!.eventId },
      { workspaceId: first.workspaceId, eventId: events[2]!.eventId },
    ]);
  });

  it('answers an empty array with 200 and nothing stored', async () => {
    const response = await deliver(harness, [], { clientSecret: 'app-secret' });
    expect(response).toMatchObject({ status: 200, body: { received: 0, stored: 0 } });
  });
});
