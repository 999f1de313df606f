import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHubSpotCrm, type HubSpotCrmOptions } from '../../server/src/crm/hubspot/adapter.ts';
import type { CrmPropertyDefinition } from '../../server/src/crm/port.ts';
import { AppError } from '../../server/src/errors.ts';
import { propertyHistory, recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { startFakeHubSpot, type FakeHubSpot } from '../support/hubspot-msw.ts';

let fake: FakeHubSpot;
let waits: number[];

beforeEach(() => {
  fake = startFakeHubSpot({ appId: '777' });
  waits = [];
});

afterEach(() => {
  fake.close();
});

function adapter(overrides: Partial<HubSpotCrmOptions> = {}) {
  return createHubSpotCrm({
    accessToken: fake.accessToken,
    basePath: fake.baseUrl,
    appId: '777',
    retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 },
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

const BATCH_READ = 'POST /crm/v3/objects/{type}/batch/read';
const BATCH_UPDATE = 'POST /crm/v3/objects/{type}/batch/update';

describe('reading records', () => {
  it('returns the requested values of records HubSpot has and leaves out the ids it does not', async () => {
    const ada = seedRecord(fake.state, 'contacts', { properties: { firstname: 'Ada', email: 'ada@example.com' } });

    const found = await adapter().readBatch({
      objectType: 'contacts',
      recordIds: [ada, '999999'],
      properties: ['firstname', 'jobtitle'],
    });

    expect([...found.keys()]).toEqual([ada]);
    expect(found.get(ada)).toEqual({ firstname: 'Ada', jobtitle: null });
    expect(fake.calls.count({ route: BATCH_READ, status: 207 })).toBe(1);
  });

  it('refuses more records than one HubSpot call takes without calling HubSpot', async () => {
    const ids = Array.from({ length: 101 }, (_, i) => String(i + 1));

    const error = await rejection(
      adapter().readBatch({ objectType: 'contacts', recordIds: ids, properties: ['email'] }),
    );

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(fake.calls.count()).toBe(0);
  });
});

describe('writing records', () => {
  it('writes the accepted records and reports HubSpot’s message for each record a 207 rejects', async () => {
    const kept = seedRecord(fake.state, 'contacts', { properties: { jobtitle: 'Engineer' } });
    const refused = seedRecord(fake.state, 'contacts', { properties: { jobtitle: 'Analyst' } });
    fake.faults.rejectUpdatesOf('contacts', refused, 'Enter only letters');

    const outcomes = await adapter().writeBatch({
      objectType: 'contacts',
      writes: [
        { recordId: kept, properties: { jobtitle: 'CTO' } },
        { recordId: refused, properties: { jobtitle: 'Head of Data' } },
      ],
    });

    expect(outcomes).toEqual([
      { recordId: kept, ok: true },
      { recordId: refused, ok: false, reason: 'crm_rejected', message: 'Enter only letters' },
    ]);
    expect(recordValues(fake.state, 'contacts', kept)?.['jobtitle']).toBe('CTO');
    expect(propertyHistory(fake.state, 'contacts', kept, 'jobtitle')[0]).toMatchObject({
      sourceType: 'API',
      sourceId: '777',
    });
    expect(recordValues(fake.state, 'contacts', refused)?.['jobtitle']).toBe('Analyst');
  });

  it('marks every record rejected with HubSpot’s message when one invalid value fails the whole batch, without retrying', async () => {
    const first = seedRecord(fake.state, 'contacts', { properties: { lifecyclestage: 'lead' } });
    const second = seedRecord(fake.state, 'contacts', { properties: { lifecyclestage: 'lead' } });

    const outcomes = await adapter().writeBatch({
      objectType: 'contacts',
      writes: [
        { recordId: first, properties: { lifecyclestage: 'customer' } },
        { recordId: second, properties: { lifecyclestage: 'promising' } },
      ],
    });

    expect(outcomes.map((outcome) => outcome.ok)).toEqual([false, false]);
    expect(outcomes[0]).toMatchObject({
      reason: 'crm_rejected',
      message: expect.stringContaining('Property values were not valid'),
    });
    expect(outcomes[1]).toMatchObject({ message: expect.stringContaining('INVALID_OPTION') });
    expect(recordValues(fake.state, 'contacts', first)?.['lifecyclestage']).toBe('lead');
    expect(fake.calls.count({ route: BATCH_UPDATE })).toBe(1);
  });
});

describe('rate limits and outages', () => {
  it('waits the interval HubSpot’s headers name after a 429 with none remaining, then succeeds', async () => {
    const id = seedRecord(fake.state, 'deals', { properties: { dealname: 'Renewal' } });
    fake.faults.failNext(1, { status: 429, intervalMs: 10_000 });

    const found = await adapter().readBatch({ objectType: 'deals', recordIds: [id], properties: ['dealname'] });

    expect(found.get(id)).toEqual({ dealname: 'Renewal' });
    expect(waits).toEqual([10_000]);
    expect(fake.calls.count({ route: BATCH_READ })).toBe(2);
  });

  it('prefers Retry-After over the interval header when HubSpot sends it', async () => {
    fake.faults.failNext(1, { status: 429, intervalMs: 10_000, retryAfterSeconds: 2 });

    await adapter().readBatch({ objectType: 'deals', recordIds: ['1'], properties: ['dealname'] });

    expect(waits).toEqual([2_000]);
  });

  it('gives up at once with a retryable CRM_RATE_LIMITED when a 429 asks for a wait longer than a minute', async () => {
    fake.faults.failNext(1, { status: 429, retryAfterSeconds: 86_400 });

    const error = await rejection(
      adapter().readBatch({ objectType: 'contacts', recordIds: ['1'], properties: ['email'] }),
    );

    expect(error).toMatchObject({ code: 'CRM_RATE_LIMITED', retryable: true });
    expect(waits).toEqual([]);
    expect(fake.calls.count({ route: BATCH_READ })).toBe(1);
  });

  it('gives up with a retryable CRM_RATE_LIMITED when 429s outlast the attempts', async () => {
    fake.faults.failNext(10, { status: 429 });

    const error = await rejection(
      adapter().readBatch({ objectType: 'contacts', recordIds: ['1'], properties: ['email'] }),
    );

    expect(error).toMatchObject({ code: 'CRM_RATE_LIMITED', retryable: true });
    expect(fake.calls.count({ route: BATCH_READ, status: 429 })).toBe(4);
    expect(waits).toHaveLength(3);
  });

  it('retries 5xx answers with full-jitter exponential backoff, then succeeds', async () => {
    const id = seedRecord(fake.state, 'contacts', { properties: { city: 'Lyon' } });
    fake.faults.failNext(1, { status: 502 });
    fake.faults.failNext(1, { status: 503 });

    const outcomes = await adapter().writeBatch({
      objectType: 'contacts',
      writes: [{ recordId: id, properties: { city: 'Paris' } }],
    });

    expect(outcomes).toEqual([{ recordId: id, ok: true }]);
    // random() = 0.5 of a ceiling that doubles from baseDelayMs 100.
    expect(waits).toEqual([50, 100]);
    expect(recordValues(fake.state, 'contacts', id)?.['city']).toBe('Paris');
  });

  it('retries a dropped connection like an outage', async () => {
    fake.faults.failNext(1, { status: 'connection-reset' });

    const found = await adapter().readBatch({ objectType: 'contacts', recordIds: ['1'], properties: ['email'] });

    expect(found.size).toBe(0);
    expect(waits).toHaveLength(1);
  });

  it('gives up with a retryable CRM_UNAVAILABLE when 5xx answers outlast the attempts', async () => {
    fake.faults.failNext(4, { status: 500 });

    const error = await rejection(
      adapter().readBatch({ objectType: 'contacts', recordIds: ['1'], properties: ['email'] }),
    );

    expect(error).toMatchObject({ code: 'CRM_UNAVAILABLE', retryable: true });
    expect(waits).toEqual([50, 100, 200]);
  });

  it('fails with CRM_AUTH_FAILED at once when HubSpot refuses the token, and the error does not carry the token', async () => {
    const error = await rejection(adapter({ accessToken: 'pat-na1-revoked-secret' }).describeProperties('contacts'));

    expect(error).toMatchObject({ code: 'CRM_AUTH_FAILED', retryable: false });
    expect(fake.calls.count({ status: 401 })).toBe(1);
    expect(
      JSON.stringify({ message: error.message, details: error.details, cause: String(error.cause) }),
    ).not.toContain('revoked-secret');
  });

  it('after a 401 sends nothing more but the token check, and tells of it once with HubSpot’s category', async () => {
    const told: string[] = [];
    const revoked = adapter({ accessToken: 'pat-na1-revoked', onAuthRefused: (category) => told.push(category) });
    const read = () => revoked.readBatch({ objectType: 'contacts', recordIds: ['1'], properties: ['email'] });
    await expect(read()).rejects.toMatchObject({ code: 'CRM_AUTH_FAILED', details: { status: 401 } });
    await expect(revoked.describeProperties('contacts')).rejects.toMatchObject({ code: 'CRM_AUTH_FAILED' });
    await expect(read()).rejects.toMatchObject({ code: 'CRM_AUTH_FAILED' });
    expect(fake.calls.count()).toBe(1);
    expect(told).toEqual(['INVALID_AUTHENTICATION']);
    // `workspace add`/`update` check a token with readAccount: it always asks.
    await expect(revoked.readAccount()).rejects.toMatchObject({ code: 'CRM_AUTH_FAILED' });
    await expect(revoked.readAccount()).rejects.toMatchObject({ code: 'CRM_AUTH_FAILED' });
    expect(fake.calls.count()).toBe(3);
  });

  it('paces its calls to the configured rate so HubSpot’s rolling window never answers 429, per adapter instance', async () => {
    fake.faults.setRateLimit({ maxCalls: 4, intervalMs: 500 });
    const paced = adapter({ rateLimit: { maxCalls: 4, intervalMs: 500 } });
    // A second client built afterwards must not replace the first one's limiter (the api-client keeps decorators in a singleton).
    adapter();

    for (let i = 0; i < 8; i += 1)
      await paced.readBatch({ objectType: 'contacts', recordIds: ['1'], properties: ['email'] });

    expect(fake.calls.count({ status: 429 })).toBe(0);
    expect(fake.calls.count({ route: BATCH_READ })).toBe(8);
  });
});

describe('property definitions', () => {
  const group = { name: 'agent_governance', label: 'Agent Governance' };
  const properties: CrmPropertyDefinition[] = [
    { name: 'ag_last_agent', label: 'Last agent write', type: 'string', fieldType: 'text' },
    {
      name: 'ag_review_state',
      label: 'Review state',
      type: 'enumeration',
      fieldType: 'select',
      options: [
        { label: 'Clean', value: 'clean' },
        { label: 'Held', value: 'held' },
      ],
    },
  ];

  it('creates the group and the missing properties once; a second run makes no create calls', async () => {
    const crm = adapter();

    const first = await crm.ensureProperties({ objectType: 'contacts', group, properties });
    const second = await crm.ensureProperties({ objectType: 'contacts', group, properties });

    expect(first).toEqual({ groupCreated: true, created: ['ag_last_agent', 'ag_review_state'], existing: [] });
    expect(second).toEqual({ groupCreated: false, created: [], existing: ['ag_last_agent', 'ag_review_state'] });
    expect(fake.calls.count({ route: 'POST /crm/v3/properties/{type}/groups' })).toBe(1);
    expect(fake.calls.count({ route: 'POST /crm/v3/properties/{type}/batch/create' })).toBe(1);
    const described = await crm.describeProperties('contacts');
    expect(described.get('ag_review_state')).toMatchObject({
      type: 'enumeration',
      groupName: 'agent_governance',
      options: [{ value: 'clean' }, { value: 'held' }],
    });
  });

  it('creates only the properties that are missing', async () => {
    const crm = adapter();
    await crm.ensureProperties({ objectType: 'deals', group, properties: properties.slice(0, 1) });

    const result = await crm.ensureProperties({ objectType: 'deals', group, properties });

    expect(result).toEqual({ groupCreated: false, created: ['ag_review_state'], existing: ['ag_last_agent'] });
  });

  it('answers two uses of the property definitions from one call, and calls again once the cache time has passed', async () => {
    let now = 0;
    const crm = adapter({ now: () => now, propertyCacheMs: 60_000 });

    const [first, second] = await Promise.all([crm.describeProperties('contacts'), crm.describeProperties('contacts')]);
    await crm.describeProperties('contacts');
    now = 60_000;
    await crm.describeProperties('contacts');

    expect(first).toBe(second);
    expect(first.get('lifecyclestage')).toMatchObject({ type: 'enumeration', fieldType: 'radio' });
    expect(first.get('numemployees')?.options?.map((option) => option.value)).toContain('1000+');
    expect(fake.calls.count({ route: 'GET /crm/v3/properties/{type}' })).toBe(2);
  });
});
