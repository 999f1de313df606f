import PubSubApiClient from 'salesforce-pubsub-api-client';
import { afterEach, describe, expect, it } from 'vitest';
import { OVERFLOW_RECORD_ID, RETENTION_MS, UI_CLIENT } from '../../server/src/sandbox/salesforce/pubsub/event-bus.ts';
import { type PubSubSandbox, startPubSubSandbox } from '../../server/src/sandbox/salesforce/pubsub/pubsub-server.ts';

/**
 * The local Pub/Sub API endpoint (issue 20, point 7) driven by the real `salesforce-pubsub-api-client`:
 * what it decodes is what a subscriber of a real org would get.
 */

const ORG = '00D000000000001EAA';
const TOKEN = `${ORG}!sandbox-token`;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface Received {
  replayId: number;
  payload: {
    ChangeEventHeader: {
      entityName: string;
      recordIds: string[];
      changeType: string;
      changeOrigin: string;
      changedFields: string[];
      nulledFields: string[];
      commitUser: string;
      transactionKey: string;
      sequenceNumber: number;
    };
    [field: string]: unknown;
  };
}

let sandbox: PubSubSandbox | undefined;
const clients: PubSubApiClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await sandbox?.close();
  sandbox = undefined;
});

async function connect(endpoint: string, token = TOKEN): Promise<PubSubApiClient> {
  const client = new PubSubApiClient(
    {
      authType: 'user-supplied',
      accessToken: token,
      instanceUrl: 'https://sandbox.my.salesforce.com',
      organizationId: ORG,
      pubSubEndpoint: endpoint,
      rejectUnauthorizedSsl: false,
    },
    quiet,
  );
  clients.push(client);
  await client.connect();
  return client;
}

/** Subscribes and resolves once `count` events arrived (or rejects on the stream's error). */
function collect(
  start: (callback: Parameters<PubSubApiClient['subscribe']>[1]) => void,
  count: number,
): Promise<Received[]> {
  const received: Received[] = [];
  return new Promise((resolve, reject) => {
    start((_info, type, data) => {
      if (type === 'event') {
        received.push(data as Received);
        if (received.length === count) resolve(received);
      } else if (type === 'error') reject(data);
    });
  });
}

describe('local Pub/Sub API endpoint, real client', () => {
  it('delivers a change event with its header decoded by the published schema', async () => {
    sandbox = await startPubSubSandbox({ accessToken: TOKEN, organizationId: ORG });
    const client = await connect(sandbox.endpoint);
    const events = collect((callback) => client.subscribeFromEarliestEvent('/data/ContactChangeEvent', callback), 2);
    sandbox.publishRecordChanges([
      {
        entity: 'Contact',
        recordIds: ['003000000000001AAA'],
        changeType: 'UPDATE',
        changedFields: ['Title', 'Phone'],
        values: { Title: 'CFO', Phone: null },
        origin: 'agent-governance',
        commitUser: '005000000000001AAA',
      },
    ]);
    // A Lead change is not on the Contact channel; the next Contact change is.
    sandbox.publishRecordChanges([
      {
        entity: 'Lead',
        recordIds: ['00Q000000000001AAA'],
        changeType: 'UPDATE',
        changedFields: ['Status'],
        values: { Status: 'Working' },
        origin: UI_CLIENT,
        commitUser: '005000000000002AAA',
      },
      {
        entity: 'Contact',
        recordIds: ['003000000000002AAA'],
        changeType: 'UPDATE',
        changedFields: ['Tier__c'],
        values: { Tier__c: 'Gold' },
        origin: UI_CLIENT,
        commitUser: '005000000000002AAA',
      },
    ]);
    const [ours, person] = await events;
    expect(ours?.payload.ChangeEventHeader).toMatchObject({
      entityName: 'Contact',
      recordIds: ['003000000000001AAA'],
      changeType: 'UPDATE',
      changeOrigin: 'com/salesforce/api/rest/66.0;client=agent-governance',
      changedFields: ['Title', 'Phone', 'LastModifiedDate'],
      nulledFields: ['Phone'],
      commitUser: '005000000000001AAA',
      sequenceNumber: 1,
    });
    expect(ours?.payload.Title).toBe('CFO');
    // A field the schema did not have joined it (a new schema id the client fetched).
    expect(person?.payload.ChangeEventHeader.changeOrigin).toBe('com/salesforce/api/soap/66.0;client=SfdcInternalAPI/');
    // Names come back in schema order; the new field is last in it.
    expect(person?.payload.ChangeEventHeader.changedFields).toEqual(['LastModifiedDate', 'Tier__c']);
    expect(person?.payload.ChangeEventHeader.sequenceNumber).toBe(2);
    expect(person?.payload.Tier__c).toBe('Gold');
    expect(Number(person?.replayId)).toBeGreaterThan(Number(ours?.replayId));
  });

  it('replays from a replay id: only the events after it', async () => {
    sandbox = await startPubSubSandbox({ accessToken: TOKEN, organizationId: ORG });
    const change = (title: string) => ({
      entity: 'Opportunity',
      recordIds: ['006000000000001AAA'],
      changeType: 'UPDATE' as const,
      changedFields: ['StageName'],
      values: { StageName: title },
      origin: null,
      commitUser: '005000000000001AAA',
    });
    const [first] = sandbox.publishRecordChanges([change('Prospecting')]);
    sandbox.publishRecordChanges([change('Qualification')]);
    sandbox.publishRecordChanges([change('Closed Won')]);
    const client = await connect(sandbox.endpoint);
    const events = await collect(
      (callback) => client.subscribeFromReplayId('/data/OpportunityChangeEvent', callback, 2, Number(first)),
      2,
    );
    expect(events.map((e) => e.payload.StageName)).toEqual(['Qualification', 'Closed Won']);
    expect(events[0]?.payload.ChangeEventHeader.changeOrigin).toBe('com/salesforce/api/rest/66.0');
  });

  it('sends no more than the events requested until the client asks again', async () => {
    sandbox = await startPubSubSandbox({ accessToken: TOKEN, organizationId: ORG });
    for (let i = 0; i < 5; i += 1)
      sandbox.publishRecordChanges([
        {
          entity: 'Contact',
          recordIds: [`00300000000000${i}AAA`.padEnd(18, 'A')],
          changeType: 'CREATE',
          changedFields: [],
          values: { LastName: `L${i}` },
          origin: null,
          commitUser: '005000000000001AAA',
        },
      ]);
    const client = await connect(sandbox.endpoint);
    const seen: string[] = [];
    let batchDone: () => void = () => {};
    const batch = () => new Promise<void>((resolve) => (batchDone = resolve));
    const firstBatch = batch();
    client.subscribeFromEarliestEvent(
      '/data/ContactChangeEvent',
      (_info, type, data) => {
        if (type === 'event') seen.push(String((data as Received).payload.LastName));
        if (type === 'lastEvent') batchDone();
      },
      3,
    );
    await firstBatch;
    expect(seen).toEqual(['L0', 'L1', 'L2']);
    const secondBatch = batch();
    client.requestAdditionalEvents('/data/ContactChangeEvent', 2);
    await secondBatch;
    expect(seen).toEqual(['L0', 'L1', 'L2', 'L3', 'L4']);
  });

  it('sends gap and overflow events with the header only', async () => {
    sandbox = await startPubSubSandbox({ accessToken: TOKEN, organizationId: ORG, overflowAfter: 4 });
    const client = await connect(sandbox.endpoint);
    const events = collect((callback) => client.subscribeFromEarliestEvent('/data/ChangeEvents', callback), 4);
    sandbox.bus.publishGap('Lead', ['00Q000000000001AAA'], 'GAP_UPDATE', '005000000000001AAA');
    // 3 records × 1 field, then 3 × 1 more: the second change passes the limit of 4.
    const update = (ids: string[]) => ({
      entity: 'Contact',
      recordIds: ids,
      changeType: 'UPDATE' as const,
      changedFields: ['Title'],
      values: { Title: 'VP' },
      origin: 'someone-else',
      commitUser: '005000000000003AAA',
    });
    sandbox.publishRecordChanges([
      update(['003000000000001AAA', '003000000000002AAA', '003000000000003AAA']),
      update(['003000000000004AAA', '003000000000005AAA', '003000000000006AAA']),
      { ...update(['00Q000000000002AAA']), entity: 'Lead' },
    ]);
    const [gap, normal, overflowContact, overflowLead] = await events;
    expect(gap?.payload.ChangeEventHeader).toMatchObject({
      entityName: 'Lead',
      changeType: 'GAP_UPDATE',
      changeOrigin: '',
      recordIds: ['00Q000000000001AAA'],
    });
    expect(normal?.payload.ChangeEventHeader.recordIds).toHaveLength(3);
    expect(overflowContact?.payload.ChangeEventHeader).toMatchObject({
      entityName: 'Contact',
      changeType: 'GAP_OVERFLOW',
      recordIds: [OVERFLOW_RECORD_ID],
    });
    expect(overflowLead?.payload.ChangeEventHeader.entityName).toBe('Lead');
    expect(overflowLead?.payload.ChangeEventHeader.changeType).toBe('GAP_OVERFLOW');
  });

  it('refuses a replay id whose following events passed the 72-hour retention', async () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    sandbox = await startPubSubSandbox({ accessToken: TOKEN, organizationId: ORG, now: () => now });
    const change = {
      entity: 'Contact',
      recordIds: ['003000000000001AAA'],
      changeType: 'UPDATE' as const,
      changedFields: ['Title'],
      values: { Title: 'A' },
      origin: null,
      commitUser: '005000000000001AAA',
    };
    const [first] = sandbox.publishRecordChanges([change]);
    sandbox.publishRecordChanges([change]);
    now += RETENTION_MS + 1;
    const client = await connect(sandbox.endpoint);
    const failure = collect(
      (callback) => client.subscribeFromReplayId('/data/ContactChangeEvent', callback, 1, Number(first)),
      1,
    );
    await expect(failure).rejects.toMatchObject({ code: 3, details: expect.stringContaining('replayid') });
  });

  it('refuses a caller with another token', async () => {
    sandbox = await startPubSubSandbox({ accessToken: TOKEN, organizationId: ORG });
    const client = await connect(sandbox.endpoint, `${ORG}!not-the-token`);
    const failure = collect((callback) => client.subscribe('/data/ContactChangeEvent', callback, 1), 1);
    await expect(failure).rejects.toMatchObject({ code: 16 });
  });
});
