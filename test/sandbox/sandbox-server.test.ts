import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Signature } from '@hubspot/api-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_ACCESS_TOKEN } from '../../server/src/sandbox/hubspot/state.ts';
import type { WebhookEvent } from '../../server/src/sandbox/hubspot/webhooks.ts';
import { SEED_CONTACTS, SEED_DEALS } from '../../server/src/sandbox/seed.ts';
import { startSandbox, type RunningSandbox } from '../../server/src/sandbox/start-sandbox.ts';

let dataDir: string;
let sandbox: RunningSandbox | undefined;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-sandbox-'));
});
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${FAKE_ACCESS_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('the standalone sandbox', () => {
  it('seeds a few hundred contacts and deals once, and a restart keeps later writes instead of seeding again', async () => {
    sandbox = await startSandbox({ dataDir, port: 0 });
    expect(sandbox.seeded).toBe(true);
    const info = await call('GET', `${sandbox.url}/_sandbox/info`);
    expect(info.body.records).toEqual({ contacts: SEED_CONTACTS, deals: SEED_DEALS });

    const update = await call('POST', `${sandbox.url}/crm/v3/objects/contacts/batch/update`, {
      inputs: [{ id: '1001', properties: { jobtitle: 'Chief Demo Officer' } }],
    });
    expect(update.status).toBe(200);
    await sandbox.close();

    sandbox = await startSandbox({ dataDir, port: 0 });
    expect(sandbox.seeded).toBe(false);
    const read = await call('GET', `${sandbox.url}/crm/v3/objects/contacts/1001?properties=jobtitle`);
    expect(read.body.properties.jobtitle).toBe('Chief Demo Officer');
    expect((await call('GET', `${sandbox.url}/_sandbox/info`)).body.records).toEqual({
      contacts: SEED_CONTACTS,
      deals: SEED_DEALS,
    });
  });

  it('records a person’s edit as CRM_UI with their user id, and refuses a value HubSpot would refuse', async () => {
    sandbox = await startSandbox({ dataDir: undefined, port: 0 });
    const edit = await call('POST', `${sandbox.url}/_sandbox/edit`, {
      objectType: 'contacts',
      recordId: '1002',
      property: 'city',
      value: 'Oslo',
      userId: 77,
    });
    expect(edit.status).toBe(200);
    const record = await call('GET', `${sandbox.url}/_sandbox/records/contacts/1002`);
    expect(record.body.values.city).toBe('Oslo');
    expect(record.body.history.city[0]).toMatchObject({
      value: 'Oslo',
      sourceType: 'CRM_UI',
      sourceId: 'userId:77',
      updatedByUserId: 77,
    });

    const bad = await call('POST', `${sandbox.url}/_sandbox/edit`, {
      objectType: 'contacts',
      recordId: '1002',
      property: 'numemployees',
      value: 'lots',
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      status: 'error',
      category: 'VALIDATION_ERROR',
      message: expect.stringContaining('INVALID_OPTION'),
    });
    const unknown = await call('POST', `${sandbox.url}/_sandbox/edit`, {
      objectType: 'contacts',
      recordId: '999999',
      property: 'city',
      value: 'Oslo',
    });
    expect(unknown.status).toBe(404);
  });

  it('switches faults over HTTP: a scripted 429 with HubSpot’s headers, a 207 rejection, then a reset', async () => {
    sandbox = await startSandbox({ dataDir: undefined, port: 0 });
    await call('PUT', `${sandbox.url}/_sandbox/faults`, {
      failNext: [{ count: 1, status: 429, retryAfterSeconds: 1 }],
      rejectUpdates: [{ objectType: 'contacts', recordId: '1003' }],
    });
    const limited = await fetch(`${sandbox.url}/crm/v3/objects/contacts/1001`, {
      headers: { authorization: `Bearer ${FAKE_ACCESS_TOKEN}` },
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
    const partial = await call('POST', `${sandbox.url}/crm/v3/objects/contacts/batch/update`, {
      inputs: [
        { id: '1003', properties: { city: 'Rome' } },
        { id: '1004', properties: { city: 'Rome' } },
      ],
    });
    expect(partial.status).toBe(207);
    expect(partial.body.errors[0].context.ids).toEqual(['1003']);

    await call('DELETE', `${sandbox.url}/_sandbox/faults`);
    const calls = await call('GET', `${sandbox.url}/_sandbox/calls`);
    expect(calls.body.byRoute['POST /crm/v3/objects/{type}/batch/update']).toEqual({ '207': 1 });
    expect(
      (
        await call('POST', `${sandbox.url}/crm/v3/objects/contacts/batch/update`, {
          inputs: [{ id: '1003', properties: { city: 'Rome' } }],
        })
      ).status,
    ).toBe(200);
  });
});

describe('the sandbox’s webhooks', () => {
  let receiver: Server;
  let received: { events: WebhookEvent[]; valid: boolean }[];
  let failuresLeft: number;
  let receiverUrl: string;
  const clientSecret = 'sandbox-client-secret';

  beforeEach(async () => {
    received = [];
    failuresLeft = 0;
    // A receiver that checks every delivery with HubSpot's own signature helper, as the server's intake (issue 6) will.
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const requestBody = Buffer.concat(chunks).toString('utf8');
        const valid = Signature.isValid({
          signatureVersion: 'v3',
          method: req.method ?? '',
          signature: String(req.headers['x-hubspot-signature-v3']),
          clientSecret,
          requestBody,
          url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}${req.url ?? ''}`,
          timestamp: Number(req.headers['x-hubspot-request-timestamp']),
        });
        received.push({ events: JSON.parse(requestBody) as WebhookEvent[], valid });
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          res.writeHead(503).end();
          return;
        }
        res.writeHead(valid ? 200 : 401).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/hubspot?source=sandbox`;
  });
  afterEach(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('sends a person’s edit and an API batch update as signed v3 event arrays HubSpot’s helper accepts', async () => {
    sandbox = await startSandbox({ dataDir: undefined, port: 0, webhook: { url: receiverUrl, secret: clientSecret } });
    await call('POST', `${sandbox.url}/_sandbox/edit`, {
      objectType: 'contacts',
      recordId: '1005',
      property: 'jobtitle',
      value: 'CFO',
      userId: 42,
    });
    await call('POST', `${sandbox.url}/crm/v3/objects/deals/batch/update`, {
      inputs: [{ id: '1301', properties: { dealname: 'Renamed', amount: '12000' } }],
    });
    await waitFor(() => received.flatMap((delivery) => delivery.events).length === 3);

    expect(received.every((delivery) => delivery.valid)).toBe(true);
    const events = received.flatMap((delivery) => delivery.events);
    expect(events).toContainEqual(
      expect.objectContaining({
        subscriptionType: 'contact.propertyChange',
        objectId: 1005,
        propertyName: 'jobtitle',
        propertyValue: 'CFO',
        changeSource: 'CRM_UI',
        sourceId: 'userId:42',
        portalId: Number(sandbox.portalId),
        attemptNumber: 0,
      }),
    );
    const dealEvents = events.filter((event) => event.subscriptionType === 'deal.propertyChange');
    expect(dealEvents.map((event) => event.propertyName).sort()).toEqual(['amount', 'dealname']);
    expect(dealEvents[0]).toMatchObject({
      objectId: 1301,
      changeSource: 'API',
      sourceId: sandbox.state.appId,
      appId: Number(sandbox.state.appId),
    });
    // The two values of one batch update arrive in one delivery, as HubSpot batches them.
    const dealDelivery = received.find((delivery) =>
      delivery.events.some((event) => event.subscriptionType === 'deal.propertyChange'),
    );
    expect(dealDelivery?.events.filter((event) => event.subscriptionType === 'deal.propertyChange')).toHaveLength(2);
  });

  it('retries a failed delivery with the same event ids and the next attempt number, and stops once it lands', async () => {
    failuresLeft = 2;
    sandbox = await startSandbox({
      dataDir: undefined,
      port: 0,
      webhook: { url: receiverUrl, secret: clientSecret, retryDelayMs: () => 10 },
    });
    await call('POST', `${sandbox.url}/_sandbox/edit`, {
      objectType: 'contacts',
      recordId: '1006',
      property: 'city',
      value: 'Nairobi',
    });
    await waitFor(() => received.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(received).toHaveLength(3);
    expect(received.map((delivery) => delivery.events[0]?.attemptNumber)).toEqual([0, 1, 2]);
    expect(new Set(received.map((delivery) => delivery.events[0]?.eventId)).size).toBe(1);
    expect(received.every((delivery) => delivery.valid)).toBe(true);
  });
});

describe('the sandbox’s webhooks when the receiver refuses for good', () => {
  it('does not send again after a 401, as HubSpot stops on 400, 401, 403, 404 and 405', async () => {
    let deliveries = 0;
    const refuser = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        deliveries += 1;
        res.writeHead(401).end();
      });
    });
    await new Promise<void>((resolve) => refuser.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(refuser.address() as AddressInfo).port}/webhooks/hubspot`;
    sandbox = await startSandbox({
      dataDir: undefined,
      port: 0,
      webhook: { url, secret: 'wrong-secret', retryDelayMs: () => 5 },
    });
    await call('POST', `${sandbox.url}/_sandbox/edit`, {
      objectType: 'contacts',
      recordId: '1007',
      property: 'city',
      value: 'Lagos',
    });
    await waitFor(() => deliveries === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(deliveries).toBe(1);
    await new Promise((resolve) => refuser.close(resolve));
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
