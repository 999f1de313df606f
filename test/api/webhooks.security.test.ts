import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setConnectionCredentials } from '../../server/src/store/workspace-store.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { deliver, propertyChange, seedWebhookWorkspace, storedEventCount } from '../support/webhooks.ts';

describe('POST /webhooks/hubspot, requests that HubSpot did not sign', () => {
  let harness: Harness;
  let ws: Awaited<ReturnType<typeof seedWebhookWorkspace>>;
  beforeAll(async () => {
    harness = await startHarness();
    ws = await seedWebhookWorkspace(harness);
  });
  afterAll(() => harness.close());

  const refusals: [string, (url: string, body: string, now: number) => Parameters<typeof deliver>[2]][] = [
    [
      'the method was altered',
      (url, body, now) => ({
        clientSecret: ws.clientSecret,
        timestamp: now,
        signed: { method: 'PUT', url, body, timestamp: now },
      }),
    ],
    [
      'the URI was altered',
      (url, body, now) => ({
        clientSecret: ws.clientSecret,
        timestamp: now,
        signed: { url: `${url}?x=1`, body, timestamp: now },
      }),
    ],
    [
      'the body was altered',
      (url, body, now) => ({
        clientSecret: ws.clientSecret,
        timestamp: now,
        signed: { url, body: body.replace('CTO', 'CEO'), timestamp: now },
      }),
    ],
    [
      'the timestamp was altered',
      (url, body, now) => ({
        clientSecret: ws.clientSecret,
        timestamp: now,
        signed: { url, body, timestamp: now - 1 },
      }),
    ],
    ['another secret signed it', (_url, _body, now) => ({ clientSecret: 'not-the-secret', timestamp: now })],
  ];

  it.each(refusals)(
    'refuses with 401 WEBHOOK_SIGNATURE_INVALID when %s, and stores nothing',
    async (_name, delivery) => {
      const events = [propertyChange(ws.portalId)];
      const url = `${harness.url}/webhooks/hubspot`;
      const response = await deliver(harness, events, delivery(url, JSON.stringify(events), Date.now()));

      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error: { code: 'WEBHOOK_SIGNATURE_INVALID' } });
      expect(await storedEventCount(harness.deps.db)).toBe(0);
    },
  );

  it('accepts the same request when nothing was altered (the control for the cases above)', async () => {
    const response = await deliver(harness, [propertyChange(ws.portalId)], { clientSecret: ws.clientSecret });
    expect(response.status).toBe(200);
    expect(await storedEventCount(harness.deps.db, ws.workspaceId)).toBe(1);
  });

  it('refuses a correctly signed request whose timestamp is over five minutes old (a replay) with WEBHOOK_TIMESTAMP_STALE', async () => {
    const before = await storedEventCount(harness.deps.db);
    const response = await deliver(harness, [propertyChange(ws.portalId)], {
      clientSecret: ws.clientSecret,
      timestamp: Date.now() - 5 * 60_000 - 1_000,
    });

    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: { code: 'WEBHOOK_TIMESTAMP_STALE' } });
    expect(await storedEventCount(harness.deps.db)).toBe(before);
  });

  it('refuses a request with no signature headers with WEBHOOK_SIGNATURE_MISSING', async () => {
    const before = await storedEventCount(harness.deps.db);
    const response = await fetch(`${harness.url}/webhooks/hubspot`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([propertyChange(ws.portalId)]),
    });

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'WEBHOOK_SIGNATURE_MISSING' } });
    expect(await storedEventCount(harness.deps.db)).toBe(before);
  });

  it('refuses events of a portal whose workspace has no secret when no app secret is configured', async () => {
    const before = await storedEventCount(harness.deps.db);
    const response = await deliver(harness, [propertyChange(88_888_888)], { clientSecret: ws.clientSecret });

    expect(response.status).toBe(401);
    expect(await storedEventCount(harness.deps.db)).toBe(before);
  });

  it('does not let one workspace’s secret sign events for another workspace’s portal', async () => {
    const other = await seedWebhookWorkspace(harness, 'other-secret');
    const before = await storedEventCount(harness.deps.db, other.workspaceId);
    const response = await deliver(harness, [propertyChange(ws.portalId), propertyChange(other.portalId)], {
      clientSecret: ws.clientSecret,
    });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      stored: 1,
      rejected: [{ index: 1, problem: expect.stringContaining(String(other.portalId)) }],
    });
    expect(await storedEventCount(harness.deps.db, other.workspaceId)).toBe(before);
  });

  it('refuses a correctly signed body that names an event’s portalId twice with 400 VALIDATION_FAILED, and stores nothing', async () => {
    const other = await seedWebhookWorkspace(harness, 'other-secret');
    const before = await storedEventCount(harness.deps.db);
    // Read by its first key, this event is the other portal's; by its last, the signer's own.
    const { portalId: _, ...rest } = propertyChange(ws.portalId);
    const fields = JSON.stringify(rest).slice(1, -1);
    const body = `[{"portalId":${other.portalId},${fields},"portalId":${ws.portalId}}]`;
    const response = await deliver(harness, undefined, { clientSecret: ws.clientSecret, body });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('"portalId" twice') },
    });
    expect(await storedEventCount(harness.deps.db)).toBe(before);
  });

  it('takes a client secret changed since the workspace was last looked up at once, and no longer the old one', async () => {
    const rotating = await seedWebhookWorkspace(harness, 'secret-before');
    expect(
      (await deliver(harness, [propertyChange(rotating.portalId)], { clientSecret: 'secret-before' })).status,
    ).toBe(200);
    // Rotated as `workspace update` does: the workspace row and its connection (issue 20) together.
    await harness.database.db.transaction((tx) =>
      setConnectionCredentials(tx, rotating.workspaceId, 'hubspot', {
        clientSecretEnc: harness.deps.secrets.seal('secret-after'),
      }),
    );

    expect((await deliver(harness, [propertyChange(rotating.portalId)], { clientSecret: 'secret-after' })).status).toBe(
      200,
    );
    expect(
      (await deliver(harness, [propertyChange(rotating.portalId)], { clientSecret: 'secret-before' })).status,
    ).toBe(401);
    expect(await storedEventCount(harness.deps.db, rotating.workspaceId)).toBe(2);
  });
});

describe('POST /webhooks/hubspot behind a proxy that serves the app under a path', () => {
  let harness: Harness;
  let ws: Awaited<ReturnType<typeof seedWebhookWorkspace>>;
  // The proxy takes https://gw.example.com/agent-governance/... and passes on the rest of the path.
  const publicUrl = 'https://gw.example.com/agent-governance/';
  beforeAll(async () => {
    harness = await startHarness({ webhooks: { publicUrl } });
    ws = await seedWebhookWorkspace(harness);
  });
  afterAll(() => harness.close());

  it('checks the signature over the URL HubSpot called, path included', async () => {
    const events = [propertyChange(ws.portalId)];
    const body = JSON.stringify(events);
    const now = Date.now();
    const called = 'https://gw.example.com/agent-governance/webhooks/hubspot';
    const signedAsCalled = {
      clientSecret: ws.clientSecret,
      timestamp: now,
      signed: { url: called, body, timestamp: now },
    };
    expect((await deliver(harness, events, signedAsCalled)).status).toBe(200);
    // The URL without the path is not what HubSpot signed.
    const withoutPath = {
      ...signedAsCalled,
      signed: { url: 'https://gw.example.com/webhooks/hubspot', body, timestamp: now },
    };
    expect((await deliver(harness, [propertyChange(ws.portalId)], withoutPath)).status).toBe(401);
    expect(await storedEventCount(harness.deps.db, ws.workspaceId)).toBe(1);
  });
});
