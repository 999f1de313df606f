import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSalesforceCrm, type SalesforceCrmOptions } from '../../server/src/crm/salesforce/adapter.ts';
import { bulkFailure } from '../../server/src/crm/salesforce/bulk.ts';
import {
  createSalesforceSandboxServer,
  type SalesforceSandboxServer,
} from '../../server/src/sandbox/salesforce/http-server.ts';
import type { SandboxRecordChange } from '../../server/src/sandbox/salesforce/record-changes.ts';
import {
  addClient,
  createRecord,
  createSalesforceSandboxState,
  type SalesforceSandboxState,
} from '../../server/src/sandbox/salesforce/state.ts';
import { LOOPBACK_ORG_ADDRESSES } from '../support/outbound.ts';

let state: SalesforceSandboxState;
let server: SalesforceSandboxServer;
let url: string;

beforeAll(async () => {
  state = createSalesforceSandboxState();
  addClient(state, { clientId: 'eca-1', clientSecret: 'secret-1' });
  server = createSalesforceSandboxServer(state);
  url = await server.listen(0);
});
afterAll(() => server.close());

beforeEach(() => {
  for (const o of state.objects.values()) {
    o.records.clear();
    o.history.length = 0;
  }
  state.calls.length = 0;
  state.faults.rejectRecords.clear();
  state.faults.bulkProcessLimit = null;
  state.faults.hold = null;
  state.faults.holdBulkJob = null;
  state.bulkJobs.clear();
});

const crmWith = (extra: Partial<SalesforceCrmOptions> = {}) =>
  createSalesforceCrm({
    loginUrl: url,
    auth: { kind: 'client_credentials', clientId: 'eca-1', clientSecret: 'secret-1' },
    callClient: 'AgentGov-test',
    bulkPollIntervalMs: 10,
    ...extra,
    addresses: extra.addresses ?? LOOPBACK_ORG_ADDRESSES,
  });

const contacts = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    createRecord(
      state,
      'Contact',
      { LastName: `Person ${i}`, Title: 'Old', Department: 'Sales', HasOptedOutOfEmail: 'false' },
      { userId: '', origin: '' },
    ),
  );

const stored = (id: string) => state.objects.get('Contact')!.records.get(id)!;
const callsSeen = () => state.calls.map((call) => `${call.method} ${call.path.replace(/750\w+/, '{job}')}`);

describe('writes from the Bulk API 2.0 threshold', () => {
  it('writes through one Bulk job, tagged with our client id, keeping each record’s outcome', async () => {
    const ids = contacts(300);
    state.faults.rejectRecords.set(ids[7]!, {
      statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      message: 'Title: locked',
    });
    const changes: SandboxRecordChange[] = [];
    const listener = (change: SandboxRecordChange) => changes.push(change);
    state.changes.on('change', listener);
    const crm = crmWith({ bulkThreshold: 300 });
    await crm.describeProperties('salesforce:Contact');
    state.calls.length = 0;
    const outcomes = await crm.writeBatch({
      objectType: 'salesforce:Contact',
      // Records set different fields: a field a record leaves out is left as it is, an empty value clears it.
      writes: ids.map((recordId, i) => {
        const properties: Record<string, string> =
          i === 1 ? { Title: 'CFO, "interim"\nand more', Department: '' } : { Title: `T${i}` };
        return { recordId, properties };
      }),
    });
    state.changes.off('change', listener);

    expect(callsSeen()).toEqual([
      'POST /jobs/ingest',
      'PUT /jobs/ingest/{job}/batches',
      'PATCH /jobs/ingest/{job}',
      'GET /jobs/ingest/{job}',
      'GET /jobs/ingest/{job}/failedResults',
    ]);
    expect(new Set(state.calls.map((call) => call.callOptions))).toEqual(new Set(['client=AgentGov-test']));
    expect(outcomes.map((o) => o.recordId)).toEqual(ids);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(299);
    expect(outcomes[7]).toEqual({
      recordId: ids[7],
      ok: false,
      reason: 'crm_rejected',
      code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      message: 'FIELD_CUSTOM_VALIDATION_EXCEPTION: Title: locked',
    });
    expect(stored(ids[0]!)).toMatchObject({ Title: 'T0', Department: 'Sales' });
    expect(stored(ids[1]!)).toMatchObject({ Title: 'CFO, "interim"\nand more', Department: null });
    expect(stored(ids[7]!)).toMatchObject({ Title: 'Old' });
    // Change events name the Bulk API and our client id: still our writes.
    expect(changes).toHaveLength(299);
    expect(changes[0]!.changeOrigin).toMatch(/^com\/salesforce\/api\/bulkapi\/67\.0;client=AgentGov-test$/);
    expect(
      crm.changeSourceOf({
        changeSource: changes[0]!.changeOrigin,
        sourceId: changes[0]!.commitUser,
        appId: crm.callClient,
      }),
    ).toBe('our_app');
  });

  it('reports a field the API user cannot see, and a deleted record, as those records’ refusals', async () => {
    const ids = contacts(3);
    state.objects.get('Contact')!.records.delete(ids[2]!);
    const outcomes = await crmWith({ bulkThreshold: 1 }).writeBatch({
      objectType: 'salesforce:Contact',
      writes: [
        { recordId: ids[0]!, properties: { Title: 'A' } },
        { recordId: ids[1]!, properties: { Secret__c: 'x' } },
        { recordId: ids[2]!, properties: { Title: 'C' } },
      ],
    });
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.code))).toEqual(['ok', 'INVALID_FIELD', 'ENTITY_IS_DELETED']);
    expect(outcomes[1]).toMatchObject({
      message: "INVALID_FIELD: No such column 'Secret__c' on sobject of type Contact",
    });
  });

  it('sends the rows a job left unprocessed again through sObject Collections', async () => {
    const ids = contacts(250);
    state.faults.bulkProcessLimit = 100;
    const crm = crmWith({ bulkThreshold: 250 });
    await crm.describeProperties('salesforce:Contact');
    state.calls.length = 0;
    const outcomes = await crm.writeBatch({
      objectType: 'salesforce:Contact',
      writes: ids.map((recordId) => ({ recordId, properties: { Title: 'New' } })),
    });
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(ids.every((id) => stored(id)['Title'] === 'New')).toBe(true);
    expect(callsSeen()).toEqual([
      'POST /jobs/ingest',
      'PUT /jobs/ingest/{job}/batches',
      'PATCH /jobs/ingest/{job}',
      'GET /jobs/ingest/{job}',
      'GET /jobs/ingest/{job}/unprocessedrecords',
      'PATCH /composite/sobjects',
    ]);
  });

  it('writes a value that reads as the Bulk API’s null (#N/A) as that text, through sObject Collections', async () => {
    // In a Bulk CSV, #N/A clears the field whatever the quoting: an agent's "#N/A" (or a person's
    // edit to it) would empty a field that the audit, the approver and a rollback take as set to "#N/A".
    const ids = contacts(4);
    const crm = crmWith({ bulkThreshold: 4 });
    await crm.describeProperties('salesforce:Contact');
    state.calls.length = 0;
    const outcomes = await crm.writeBatch({
      objectType: 'salesforce:Contact',
      writes: [
        { recordId: ids[0]!, properties: { Title: '#N/A' } },
        { recordId: ids[1]!, properties: { Title: '#n/a', Department: 'Ops' } },
        { recordId: ids[2]!, properties: { Title: 'T2', Department: '' } },
        { recordId: ids[3]!, properties: { Title: 'T3' } },
      ],
    });
    expect(outcomes.map((o) => [o.recordId, o.ok])).toEqual(ids.map((id) => [id, true]));
    expect(stored(ids[0]!)).toMatchObject({ Title: '#N/A', Department: 'Sales' });
    expect(stored(ids[1]!)).toMatchObject({ Title: '#n/a', Department: 'Ops' });
    expect(stored(ids[2]!)).toMatchObject({ Title: 'T2', Department: null });
    expect(stored(ids[3]!)).toMatchObject({ Title: 'T3' });
    expect(callsSeen()).toEqual([
      'POST /jobs/ingest',
      'PUT /jobs/ingest/{job}/batches',
      'PATCH /jobs/ingest/{job}',
      'GET /jobs/ingest/{job}',
      'PATCH /composite/sobjects',
    ]);
  });

  it('keeps a carriage return in a value inside its cell: a value cannot end its row and write another record', async () => {
    // A CSV reader may end a row at a lone CR, as the sandbox's does: unquoted, the text after it and
    // the record's next cells would be a row of their own, an update of whatever record it names.
    const [a, b, c] = contacts(3);
    const outcomes = await crmWith({ bulkThreshold: 2 }).writeBatch({
      objectType: 'salesforce:Contact',
      writes: [
        { recordId: a!, properties: { Title: `x\r${b}`, Department: 'Hacked' } },
        { recordId: c!, properties: { Title: 'T' } },
      ],
    });
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(stored(b!)).toMatchObject({ Title: 'Old', Department: 'Sales' });
    expect(stored(a!)).toMatchObject({ Title: `x\r${b}`, Department: 'Hacked' });
  });

  it('stays on sObject Collections below the threshold, 200 records a call', async () => {
    const ids = contacts(450);
    const crm = crmWith({ bulkThreshold: 451 });
    await crm.describeProperties('salesforce:Contact');
    state.calls.length = 0;
    const outcomes = await crm.writeBatch({
      objectType: 'salesforce:Contact',
      writes: ids.map((recordId) => ({ recordId, properties: { Title: 'New' } })),
    });
    expect(outcomes.map((o) => o.recordId)).toEqual(ids);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(callsSeen()).toEqual(Array(3).fill('PATCH /composite/sobjects'));
  });

  it('crosses the threshold at the number of records given', async () => {
    const ids = contacts(451);
    const crm = crmWith({ bulkThreshold: 451 });
    await crm.describeProperties('salesforce:Contact');
    state.calls.length = 0;
    await crm.writeBatch({
      objectType: 'salesforce:Contact',
      writes: ids.map((recordId) => ({ recordId, properties: { Title: 'New' } })),
    });
    expect(callsSeen()).toEqual([
      'POST /jobs/ingest',
      'PUT /jobs/ingest/{job}/batches',
      'PATCH /jobs/ingest/{job}',
      'GET /jobs/ingest/{job}',
    ]);
  });

  // Salesforce answers the close at once and processes the job after (an org queues it): the
  // adapter looks at the job until it is complete.
  describe('a job not yet processed when first looked at', () => {
    const lookedAt: string[] = [];
    /** Each look at the job notes the state it is answered; the job is processed once `release` is called. */
    const processWhen = (release: (resolve: () => void) => void) => {
      lookedAt.length = 0;
      state.faults.holdBulkJob = () => new Promise<void>((resolve) => release(resolve));
      state.faults.hold = (request) => {
        if (request.method === 'GET' && /\/jobs\/ingest\/\w+$/.test(request.path))
          lookedAt.push([...state.bulkJobs.values()][0]!.state);
        return undefined;
      };
    };

    it('is looked at again until complete, and each record’s outcome is kept', async () => {
      const ids = contacts(300);
      state.faults.rejectRecords.set(ids[3]!, { statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'locked' });
      const crm = crmWith({ bulkThreshold: 300 });
      await crm.describeProperties('salesforce:Contact');
      state.calls.length = 0;
      let process = () => {};
      processWhen((resolve) => (process = resolve));
      const writing = crm.writeBatch({
        objectType: 'salesforce:Contact',
        writes: ids.map((recordId) => ({ recordId, properties: { Title: 'Later' } })),
      });
      // The first look finds the job closed, not processed: it is processed only then.
      while (lookedAt.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(stored(ids[0]!)).toMatchObject({ Title: 'Old' });
      process();
      const outcomes = await writing;

      expect(lookedAt).toEqual(['UploadComplete', 'JobComplete']);
      expect(callsSeen()).toEqual([
        'POST /jobs/ingest',
        'PUT /jobs/ingest/{job}/batches',
        'PATCH /jobs/ingest/{job}',
        'GET /jobs/ingest/{job}',
        'GET /jobs/ingest/{job}',
        'GET /jobs/ingest/{job}/failedResults',
      ]);
      expect(outcomes.map((o) => o.recordId)).toEqual(ids);
      expect(outcomes.filter((o) => o.ok)).toHaveLength(299);
      expect(outcomes[3]).toMatchObject({
        ok: false,
        reason: 'crm_rejected',
        code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      });
      expect(stored(ids[0]!)).toMatchObject({ Title: 'Later' });
    });

    it('fails the write as unavailable, retryable, when the job is still not processed at the poll timeout', async () => {
      const ids = contacts(300);
      const crm = crmWith({ bulkThreshold: 300, bulkPollTimeoutMs: 100 });
      let process = () => {};
      processWhen((resolve) => (process = resolve));
      try {
        await expect(
          crm.writeBatch({
            objectType: 'salesforce:Contact',
            writes: ids.map((recordId) => ({ recordId, properties: { Title: 'Queued' } })),
          }),
        ).rejects.toMatchObject({
          code: 'CRM_UNAVAILABLE',
          message: expect.stringMatching(/had not finished .* after 100 ms: its records may still be written/),
        });
        expect(lookedAt.length).toBeGreaterThan(1);
        expect(new Set(lookedAt)).toEqual(new Set(['UploadComplete']));
      } finally {
        process();
      }
    });
  });
});

describe('a failed row’s error', () => {
  it('reads as it did when an expression took the closing dashes off', () => {
    const before = (error: string) => {
      const [code = 'UNKNOWN_EXCEPTION', ...rest] = error.replace(/\s*--\s*$/, '').split(':');
      const message = (rest.length > 1 ? rest.slice(0, -1) : rest).join(':').trim();
      return { state: 'failed', code, message: message || 'refused without a reason' };
    };
    const alphabet = ' -:aB\t\n\u00a0';
    const errors = ['INVALID_FIELD:No such column:Secret__c --', 'A:b:c', '--', '', 'A:x --  \n', 'A: -- -- '];
    for (let i = 0; i < 20_000; i++) {
      let error = '';
      for (let length = Math.floor(Math.random() * 12); length > 0; length--)
        error += alphabet[Math.floor(Math.random() * alphabet.length)];
      errors.push(error);
    }
    for (const error of errors) expect(bulkFailure(error), JSON.stringify(error)).toEqual(before(error));
  });

  it('keeps a message that quotes a long run of spaces', () => {
    const spaces = ' '.repeat(65_536);
    expect(bulkFailure(`STRING_TOO_LONG:data value too large: a${spaces}b:Title --`)).toEqual({
      state: 'failed',
      code: 'STRING_TOO_LONG',
      message: `data value too large: a${spaces}b`,
    });
  });
});
