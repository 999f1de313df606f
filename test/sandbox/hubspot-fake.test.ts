import { describe, expect, it } from 'vitest';
import { handleHubSpotRequest } from '../../server/src/sandbox/hubspot/handler.ts';
import { createFakeHubSpotHttpServer } from '../../server/src/sandbox/hubspot/http-server.ts';
import type { HubSpotRequest } from '../../server/src/sandbox/hubspot/responses.ts';
import {
  createHubSpotState,
  editAsPerson,
  editAsWorkflow,
  propertyHistory,
  recordValues,
  seedRecord,
  type HubSpotState,
} from '../../server/src/sandbox/hubspot/state.ts';

function fakeWithClock(start = Date.parse('2026-03-02T09:00:00Z')) {
  let now = start;
  const state = createHubSpotState({ now: () => now, appId: '555' });
  return { state, tick: (ms: number) => (now += ms) };
}

function call(state: HubSpotState, request: Omit<HubSpotRequest, 'headers'> & { token?: string }) {
  return handleHubSpotRequest(state, {
    ...request,
    headers: { Authorization: `Bearer ${request.token ?? state.accessToken}` },
  });
}

const readContacts = (state: HubSpotState, body: unknown) =>
  call(state, { method: 'POST', path: '/crm/v3/objects/contacts/batch/read', body });
const updateContacts = (state: HubSpotState, body: unknown) =>
  call(state, { method: 'POST', path: '/crm/v3/objects/contacts/batch/update', body });

describe('record history', () => {
  it('records API writes with the app id as source, and people and workflows as themselves, newest first', async () => {
    const { state, tick } = fakeWithClock();
    const id = seedRecord(state, 'contacts', { properties: { jobtitle: 'Engineer' } });
    tick(1_000);
    editAsPerson(state, {
      objectType: 'contacts',
      recordId: id,
      properties: { jobtitle: 'Lead Engineer' },
      userId: 9001,
    });
    tick(1_000);
    await updateContacts(state, { inputs: [{ id, properties: { jobtitle: 'CTO' } }] });
    tick(1_000);
    editAsWorkflow(state, {
      objectType: 'contacts',
      recordId: id,
      properties: { jobtitle: 'Chief Technology Officer' },
      workflowId: 'wf-12',
    });

    const response = await readContacts(state, {
      inputs: [{ id }],
      properties: ['jobtitle'],
      propertiesWithHistory: ['jobtitle'],
    });

    const record = (
      response.body as {
        results: { properties: Record<string, string>; propertiesWithHistory: Record<string, unknown[]> }[];
      }
    ).results[0];
    expect(record?.properties['jobtitle']).toBe('Chief Technology Officer');
    expect(record?.propertiesWithHistory['jobtitle']).toEqual([
      {
        value: 'Chief Technology Officer',
        timestamp: '2026-03-02T09:00:03.000Z',
        sourceType: 'WORKFLOW',
        sourceId: 'wf-12',
      },
      { value: 'CTO', timestamp: '2026-03-02T09:00:02.000Z', sourceType: 'API', sourceId: '555' },
      {
        value: 'Lead Engineer',
        timestamp: '2026-03-02T09:00:01.000Z',
        sourceType: 'CRM_UI',
        sourceId: 'userId:9001',
        updatedByUserId: 9001,
      },
      { value: 'Engineer', timestamp: '2026-03-02T09:00:00.000Z', sourceType: 'IMPORT', sourceId: 'IMPORT:seed' },
    ]);
  });

  it('keeps only the 20 newest revisions of a deal property, as HubSpot does', () => {
    const { state, tick } = fakeWithClock();
    const id = seedRecord(state, 'deals', { properties: { amount: '0' } });
    for (let i = 1; i <= 25; i += 1) {
      tick(1);
      editAsPerson(state, { objectType: 'deals', recordId: id, properties: { amount: String(i) }, userId: 1 });
    }

    const history = propertyHistory(state, 'deals', id, 'amount');

    expect(history).toHaveLength(20);
    expect(history.at(-1)?.value).toBe('6');
  });
});

describe('batch read and update', () => {
  it('answers 207 with an OBJECT_NOT_FOUND error naming the ids it does not have', async () => {
    const { state } = fakeWithClock();
    const id = seedRecord(state, 'contacts', { properties: { email: 'a@example.com' } });

    const response = await readContacts(state, { inputs: [{ id }, { id: '404404' }], properties: ['email'] });

    expect(response.status).toBe(207);
    expect(response.body).toMatchObject({
      status: 'COMPLETE',
      numErrors: 1,
      results: [{ id, properties: { email: 'a@example.com', hs_object_id: id } }],
      errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', context: { ids: ['404404'] } }],
    });
  });

  it('refuses a batch of more than 100 inputs with a 400 VALIDATION_ERROR', async () => {
    const { state } = fakeWithClock();

    const response = await readContacts(state, {
      inputs: Array.from({ length: 101 }, (_, i) => ({ id: String(i + 1) })),
    });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      status: 'error',
      category: 'VALIDATION_ERROR',
      correlationId: expect.any(String),
      message: expect.stringContaining('100'),
    });
  });

  it.each([
    ['an unknown property', { favourite_colour: 'blue' }, 'PROPERTY_DOESNT_EXIST'],
    ['a value outside an enumeration', { lifecyclestage: 'prospect' }, 'INVALID_OPTION'],
    ['a number that is not one', { numemployees: '12' }, 'INVALID_OPTION'],
    ['a boolean that is not one', { hs_email_optout: 'yes' }, 'INVALID_BOOLEAN'],
    ['a read-only property', { hs_object_id: '5' }, 'READ_ONLY_VALUE'],
    ['an owner that does not exist', { hubspot_owner_id: '42' }, 'INVALID_OPTION'],
  ])('refuses the whole batch for %s and writes nothing', async (_case, properties, error) => {
    const { state } = fakeWithClock();
    const good = seedRecord(state, 'contacts', { properties: { city: 'Lyon' } });
    const bad = seedRecord(state, 'contacts', { properties: { city: 'Nice' } });

    const response = await updateContacts(state, {
      inputs: [
        { id: good, properties: { city: 'Paris' } },
        { id: bad, properties },
      ],
    });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      category: 'VALIDATION_ERROR',
      message: expect.stringMatching(/^Property values were not valid: \[/),
    });
    expect((response.body as { message: string }).message).toContain(error);
    expect(recordValues(state, 'contacts', good)?.['city']).toBe('Lyon');
  });

  it('stores datetimes as ISO strings whether sent as epoch milliseconds or ISO', async () => {
    const { state } = fakeWithClock();
    const id = seedRecord(state, 'deals', { properties: { dealname: 'Renewal' } });

    const response = await call(state, {
      method: 'POST',
      path: '/crm/v3/objects/deals/batch/update',
      body: { inputs: [{ id, properties: { closedate: '1772409600000', amount: '1200.50', dealstage: 'closedwon' } }] },
    });

    expect(response.status).toBe(200);
    expect(recordValues(state, 'deals', id)).toMatchObject({
      closedate: '2026-03-02T00:00:00.000Z',
      amount: '1200.50',
      dealstage: 'closedwon',
    });
  });

  it('writes the other records and answers 207 for unknown ids and records set to be rejected', async () => {
    const { state } = fakeWithClock();
    const written = seedRecord(state, 'contacts', { properties: { city: 'Lyon' } });
    const refused = seedRecord(state, 'contacts', { properties: { city: 'Nice' } });
    state.faults.rejectUpdatesOf('contacts', refused, 'Enter only letters');

    const response = await updateContacts(state, {
      inputs: [
        { id: written, properties: { city: 'Paris' } },
        { id: refused, properties: { city: 'Nantes' } },
        { id: '999999', properties: { city: 'Lille' } },
      ],
    });

    expect(response.status).toBe(207);
    expect(response.body).toMatchObject({
      numErrors: 2,
      results: [{ id: written }],
      errors: [
        { category: 'OBJECT_NOT_FOUND', context: { ids: ['999999'] } },
        { status: 'error', category: 'VALIDATION_ERROR', message: 'Enter only letters', context: { ids: [refused] } },
      ],
    });
    expect(recordValues(state, 'contacts', refused)?.['city']).toBe('Nice');
  });
  it('answers once the latency has passed since the request arrived, its own work done on arrival and counted in it', async () => {
    const { state } = fakeWithClock();
    const id = seedRecord(state, 'contacts', { properties: { city: 'Lyon' } });
    state.faults.latencyMs = 200;

    const sentAt = performance.now();
    let answeredAt: number | undefined;
    const answer = updateContacts(state, { inputs: [{ id, properties: { city: 'Paris' } }] }).then((response) => {
      answeredAt = performance.now();
      return response;
    });
    expect(recordValues(state, 'contacts', id)?.['city']).toBe('Paris');
    expect(answeredAt).toBeUndefined();

    expect((await answer).status).toBe(200);
    expect(answeredAt! - sentAt).toBeGreaterThanOrEqual(199);
  });
});

describe('rate limits, auth and faults', () => {
  it('answers 429 with HubSpot’s body and headers once the rolling window is full, and admits again as it slides', async () => {
    const { state, tick } = fakeWithClock();
    state.faults.setRateLimit({ maxCalls: 2, intervalMs: 10_000, dailyMax: 1_000 });

    const first = await readContacts(state, { inputs: [] });
    tick(4_000);
    await readContacts(state, { inputs: [] });
    const refused = await readContacts(state, { inputs: [] });
    tick(6_001);
    const admitted = await readContacts(state, { inputs: [] });

    expect(first.headers).toMatchObject({
      'x-hubspot-ratelimit-max': '2',
      'x-hubspot-ratelimit-remaining': '1',
      'x-hubspot-ratelimit-interval-milliseconds': '10000',
      'x-hubspot-ratelimit-daily': '1000',
      'x-hubspot-ratelimit-daily-remaining': '999',
    });
    expect(refused.status).toBe(429);
    expect(refused.headers).toMatchObject({
      'x-hubspot-ratelimit-remaining': '0',
      'x-hubspot-ratelimit-interval-milliseconds': '10000',
    });
    expect(refused.body).toEqual({
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      correlationId: expect.any(String),
      policyName: 'TEN_SECONDLY_ROLLING',
    });
    expect(admitted.status).toBe(200);
  });

  it('answers 401 in HubSpot’s error shape when the bearer token is wrong', async () => {
    const { state } = fakeWithClock();

    const response = await call(state, { method: 'GET', path: '/crm/v3/properties/contacts', token: 'wrong' });

    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({
      status: 'error',
      category: 'INVALID_AUTHENTICATION',
      correlationId: expect.any(String),
    });
  });

  it('answers routes it does not know with 404 in HubSpot’s error shape', async () => {
    const { state } = fakeWithClock();

    const response = await call(state, { method: 'DELETE', path: '/crm/v3/objects/contacts/batch/archive' });

    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND' });
  });

  it('plays scripted failures in order, then answers normally, and counts calls per route', async () => {
    const { state } = fakeWithClock();
    state.faults.failNext(1, { status: 503 });
    state.faults.failNext(1, { status: 429, retryAfterSeconds: 3 });

    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await readContacts(state, { inputs: [] })).status);
    await call(state, { method: 'GET', path: '/crm/v3/properties/deals' });

    expect(statuses).toEqual([503, 429, 200]);
    expect(state.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/read' })).toBe(3);
    expect(state.calls.count({ route: '/crm/v3/properties/{type}' })).toBe(1);
    expect(state.calls.count({ status: 429 })).toBe(1);
  });
});

describe('properties and groups', () => {
  it('creates a group and properties in it, and refuses duplicates with 409 OBJECT_ALREADY_EXISTS', async () => {
    const { state } = fakeWithClock();
    const post = (path: string, body: unknown) => call(state, { method: 'POST', path, body });
    const property = {
      name: 'ag_status',
      label: 'AG status',
      type: 'string',
      fieldType: 'text',
      groupName: 'agent_governance',
    };

    const orphan = await post('/crm/v3/properties/contacts', property);
    const group = await post('/crm/v3/properties/contacts/groups', {
      name: 'agent_governance',
      label: 'Agent Governance',
    });
    const created = await post('/crm/v3/properties/contacts', property);
    const again = await post('/crm/v3/properties/contacts', property);
    const batch = await post('/crm/v3/properties/contacts/batch/create', {
      inputs: [property, { ...property, name: 'ag_note' }],
    });
    const listed = await call(state, { method: 'GET', path: '/crm/v3/properties/contacts/groups' });

    expect([orphan.status, group.status, created.status, again.status, batch.status]).toEqual([
      400, 201, 201, 409, 207,
    ]);
    expect(again.body).toMatchObject({ category: 'OBJECT_ALREADY_EXISTS' });
    expect(batch.body).toMatchObject({
      results: [{ name: 'ag_note' }],
      errors: [{ category: 'OBJECT_ALREADY_EXISTS' }],
    });
    expect((listed.body as { results: { name: string }[] }).results.map((g) => g.name)).toEqual([
      'contactinformation',
      'emailinformation',
      'agent_governance',
    ]);
  });

  it('describes HubSpot’s default contact properties with their real types and options', async () => {
    const { state } = fakeWithClock();

    const response = await call(state, { method: 'GET', path: '/crm/v3/properties/contacts' });

    const byName = new Map(
      (response.body as { results: { name: string; type: string; options: { value: string }[] }[] }).results.map(
        (p) => [p.name, p],
      ),
    );
    expect(byName.get('lifecyclestage')?.options.map((o) => o.value)).toEqual([
      'subscriber',
      'lead',
      'marketingqualifiedlead',
      'salesqualifiedlead',
      'opportunity',
      'customer',
      'evangelist',
      'other',
    ]);
    expect(byName.get('hs_email_optout')?.type).toBe('bool');
    expect(byName.get('numemployees')?.type).toBe('enumeration');
  });
});

describe('node:http wrapper', () => {
  it('serves the same fake over a real socket', async () => {
    const { state } = fakeWithClock();
    const id = seedRecord(state, 'contacts', { properties: { firstname: 'Grace' } });
    const server = createFakeHubSpotHttpServer(state);
    const url = await server.listen();
    try {
      const response = await fetch(`${url}/crm/v3/objects/contacts/${id}?properties=firstname`, {
        headers: { authorization: `Bearer ${state.accessToken}` },
      });

      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ id, properties: { firstname: 'Grace' } });
    } finally {
      await server.close();
    }
  });
});
