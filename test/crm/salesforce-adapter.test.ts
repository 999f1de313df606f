import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordIdProblem } from '../../shared/crm-names.ts';
import type { SalesforceSession } from '../../server/src/crm/salesforce/auth.ts';
import { createSalesforceCrm, type SalesforceCrmOptions } from '../../server/src/crm/salesforce/adapter.ts';
import { LOCKED_ROW_RETRIES } from '../../server/src/crm/salesforce/writes.ts';
import { ourFieldName, salesforceChangeSource, sfFieldName } from '../../server/src/crm/salesforce/names.ts';
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
const person = { userId: '', origin: '' };

beforeAll(async () => {
  state = createSalesforceSandboxState();
  server = createSalesforceSandboxServer(state);
  url = await server.listen(0);
});
afterAll(() => server.close());

beforeEach(() => {
  for (const o of state.objects.values()) {
    o.records.clear();
    o.history.length = 0;
  }
  state.sessions.clear();
  state.clients.clear();
  state.calls.length = 0;
  state.api.used = 0;
  state.api.limit = 15_000;
  state.faults.rejectRecords.clear();
  addClient(state, { clientId: 'eca-1', clientSecret: 'secret-1' });
});

const crmWith = (extra: Partial<SalesforceCrmOptions> = {}) =>
  createSalesforceCrm({
    loginUrl: url,
    auth: { kind: 'client_credentials', clientId: 'eca-1', clientSecret: 'secret-1' },
    ...extra,
    addresses: extra.addresses ?? LOOPBACK_ORG_ADDRESSES,
  });

const contacts = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    createRecord(state, 'Contact', { LastName: `Person ${i}`, Title: null, HasOptedOutOfEmail: 'false' }, person),
  );

describe('the Salesforce adapter against the local Salesforce', () => {
  it('reads 2,000 contacts in one sObject Collections retrieve call and types values as our strings', async () => {
    const ids = contacts(2_000);
    const crm = crmWith();
    const read = await crm.readBatch({
      objectType: 'salesforce:Contact',
      recordIds: ids,
      properties: ['LastName', 'HasOptedOutOfEmail', 'Title'],
    });
    expect(read.size).toBe(2_000);
    expect(read.get(ids[5]!)).toEqual({ LastName: 'Person 5', HasOptedOutOfEmail: 'false', Title: null });
    expect(state.calls.map((call) => `${call.method} ${call.path}`)).toEqual(['POST /composite/sobjects/Contact']);
  });

  it('leaves out ids the org does not have', async () => {
    const [id] = contacts(1);
    const missing = `003${'9'.repeat(12)}`;
    const read = await crmWith().readBatch({
      objectType: 'salesforce:Contact',
      recordIds: [id!, missing],
      properties: ['LastName'],
    });
    expect([...read.keys()]).toEqual([id]);
  });

  it('writes 200 records in one call tagged with our client id, keeping each record’s outcome and its statusCode', async () => {
    const ids = contacts(200);
    state.faults.rejectRecords.set(ids[7]!, {
      statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      message: 'Title is locked',
    });
    const changes: SandboxRecordChange[] = [];
    const listener = (change: SandboxRecordChange) => changes.push(change);
    state.changes.on('change', listener);
    const crm = crmWith({ callClient: 'AgentGov-test' });
    const outcomes = await crm.writeBatch({
      objectType: 'salesforce:Contact',
      writes: ids.map((recordId) => ({ recordId, properties: { Title: 'CFO', HasOptedOutOfEmail: 'true' } })),
    });
    state.changes.off('change', listener);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(199);
    expect(outcomes[7]).toEqual({
      recordId: ids[7],
      ok: false,
      reason: 'crm_rejected',
      code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      message: 'FIELD_CUSTOM_VALIDATION_EXCEPTION: Title is locked',
    });
    const writes = state.calls.filter((call) => call.method === 'PATCH');
    expect(writes).toEqual([{ method: 'PATCH', path: '/composite/sobjects', callOptions: 'client=AgentGov-test' }]);
    expect(state.objects.get('Contact')!.records.get(ids[0]!)).toMatchObject({
      Title: 'CFO',
      HasOptedOutOfEmail: 'true',
    });
    // Change events tell our writes from others' by the client id.
    expect(changes).toHaveLength(199);
    expect(
      crm.changeSourceOf({
        changeSource: changes[0]!.changeOrigin,
        sourceId: changes[0]!.commitUser,
        appId: crm.callClient,
      }),
    ).toBe('our_app');
  });

  it('sends the records Salesforce could not lock again, one call at a time, and reports a lock that holds as that record’s refusal', async () => {
    const ids = contacts(600);
    const [freedLater, lockedThroughout] = [ids[250]!, ids[450]!];
    const lock = { statusCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record' };
    state.faults.rejectRecords.set(freedLater, lock);
    state.faults.rejectRecords.set(lockedThroughout, lock);
    let patches = 0;
    // The first record's lock is released once the three calls side by side have been answered.
    state.faults.hold = (request) => {
      if (request.method === 'PATCH' && ++patches === 4) state.faults.rejectRecords.delete(freedLater);
      return undefined;
    };
    try {
      const outcomes = await crmWith().writeBatch({
        objectType: 'salesforce:Contact',
        writes: ids.map((recordId) => ({ recordId, properties: { Title: 'CFO' } })),
      });
      expect(outcomes.map((o) => o.recordId)).toEqual(ids);
      expect(outcomes.filter((o) => !o.ok)).toEqual([
        {
          recordId: lockedThroughout,
          ok: false,
          reason: 'crm_rejected',
          code: 'UNABLE_TO_LOCK_ROW',
          message: 'UNABLE_TO_LOCK_ROW: unable to obtain exclusive access to this record',
        },
      ]);
      expect(state.objects.get('Contact')!.records.get(freedLater)).toMatchObject({ Title: 'CFO' });
      // Three calls of 200, then both locked records in one call, then the one still locked alone.
      expect(patches).toBe(3 + LOCKED_ROW_RETRIES);
    } finally {
      state.faults.hold = null;
    }
  });

  it('writes the record it was given even when a property names Id, never the record that Id names', async () => {
    const [governed, other] = contacts(2);
    await crmWith().writeBatch({
      objectType: 'salesforce:Contact',
      writes: [{ recordId: governed!, properties: { Id: other!, Title: 'CFO' } }],
    });
    const records = state.objects.get('Contact')!.records;
    expect(records.get(governed!)).toMatchObject({ Title: 'CFO' });
    expect(records.get(other!)).toMatchObject({ Title: null });
  });

  it('refuses more than 2,000 writes or 2,000 reads in one call before sending anything', async () => {
    const crm = crmWith();
    await expect(
      crm.writeBatch({
        objectType: 'salesforce:Contact',
        writes: Array.from({ length: 2_001 }, () => ({ recordId: 'x', properties: {} })),
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(
      crm.readBatch({
        objectType: 'salesforce:Contact',
        recordIds: Array.from({ length: 2_001 }, () => 'x'),
        properties: [],
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(state.calls).toEqual([]);
  });

  it('tells from describe a text field’s most characters and a reference field’s id form; the org refuses a longer text as STRING_TOO_LONG', async () => {
    const contactFields = state.objects.get('Contact')!.fields;
    contactFields.set('Code__c', {
      name: 'Code__c',
      label: 'Code',
      type: 'string',
      updateable: true,
      custom: false,
      length: 5,
    });
    try {
      const crm = crmWith();
      const described = await crm.describeProperties('salesforce:Contact');
      expect(described.get('Code__c')).toMatchObject({ type: 'string', maxLength: 5 });
      expect(described.get('HasOptedOutOfEmail')?.maxLength).toBeUndefined();
      // A reference field takes a record's id, nothing else.
      expect(described.get('OwnerId')?.recordIdPattern?.test('005000000000001AAA')).toBe(true);
      expect(described.get('OwnerId')?.recordIdPattern?.test('jane@acme.com')).toBe(false);
      expect(described.get('Code__c')?.recordIdPattern).toBeUndefined();
      const [id] = contacts(1);
      const outcomes = await crm.writeBatch({
        objectType: 'salesforce:Contact',
        writes: [{ recordId: id!, properties: { Code__c: 'ABCDEF' } }],
      });
      expect(outcomes[0]).toMatchObject({ ok: false, code: 'STRING_TOO_LONG' });
      expect(state.objects.get('Contact')!.records.get(id!)?.['Code__c']).toBeUndefined();
    } finally {
      contactFields.delete('Code__c');
    }
  });

  it('reports a field the API user cannot see as that record’s refusal', async () => {
    const [id] = contacts(1);
    state.objects
      .get('Contact')!
      .fields.set('Score__c', { name: 'Score__c', label: 'Score', type: 'string', updateable: true, custom: true });
    const outcomes = await crmWith().writeBatch({
      objectType: 'salesforce:Contact',
      writes: [{ recordId: id!, properties: { Score__c: '9' } }],
    });
    expect(outcomes[0]).toMatchObject({ ok: false, code: 'INVALID_FIELD' });
    state.objects.get('Contact')!.fields.delete('Score__c');
  });

  it('stops before the configured share of the org’s daily API calls is spent, with a clear error', async () => {
    const ids = contacts(1);
    state.api.limit = 100;
    state.api.used = 48;
    const stops: unknown[] = [];
    const crm = crmWith({ apiShare: 0.5, onBudgetStop: (usage) => stops.push(usage) });
    await crm.readBatch({ objectType: 'salesforce:Contact', recordIds: ids, properties: ['LastName'] });
    expect(crm.apiUsage()).toEqual({ used: 49, limit: 100 });
    await crm.readBatch({ objectType: 'salesforce:Contact', recordIds: ids, properties: ['LastName'] });
    await expect(
      crm.readBatch({ objectType: 'salesforce:Contact', recordIds: ids, properties: ['LastName'] }),
    ).rejects.toMatchObject({
      code: 'CRM_RATE_LIMITED',
      message: expect.stringContaining('50 of its 100 daily API calls'),
    });
    expect(stops).toEqual([{ used: 50, limit: 100, share: 0.5 }]);
    expect(state.api.used).toBe(50);
  });

  it('turns REQUEST_LIMIT_EXCEEDED into CRM_RATE_LIMITED without retrying', async () => {
    const ids = contacts(1);
    state.api.used = state.api.limit;
    await expect(
      crmWith({ apiShare: 1 }).readBatch({
        objectType: 'salesforce:Contact',
        recordIds: ids,
        properties: ['LastName'],
      }),
    ).rejects.toMatchObject({ code: 'CRM_RATE_LIMITED', message: expect.stringContaining('out of API calls') });
  });

  it('mints a new token when the session expired, persists it, and repeats the call once', async () => {
    const ids = contacts(1);
    const sessions: SalesforceSession[] = [];
    const crm = crmWith({ onSession: (session) => sessions.push(session) });
    await crm.readBatch({ objectType: 'salesforce:Contact', recordIds: ids, properties: ['LastName'] });
    for (const session of state.sessions.values()) session.expiresAt = 0;
    const read = await crm.readBatch({ objectType: 'salesforce:Contact', recordIds: ids, properties: ['LastName'] });
    expect(read.size).toBe(1);
    expect(sessions).toHaveLength(2);
    expect(sessions[1]!.accessToken).not.toBe(sessions[0]!.accessToken);
    expect(sessions[1]!.instanceUrl).toBe(url);
  });

  it('reports a revoked app as CRM_AUTH_FAILED, once, instead of retrying', async () => {
    const ids = contacts(1);
    const crm = crmWith();
    await crm.readBatch({ objectType: 'salesforce:Contact', recordIds: ids, properties: ['LastName'] });
    state.clients.get('eca-1')!.revoked = true;
    state.sessions.clear();
    const tokenCallsBefore = state.api.used;
    await expect(
      crm.readBatch({ objectType: 'salesforce:Contact', recordIds: ids, properties: ['LastName'] }),
    ).rejects.toMatchObject({
      code: 'CRM_AUTH_FAILED',
      details: { revoked: true },
    });
    expect(state.api.used).toBe(tokenCallsBefore);
  });

  it('signs in with the JWT bearer flow and names the org', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    addClient(state, {
      clientId: 'eca-jwt',
      clientSecret: '',
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      username: 'admin@sandbox.example',
    });
    const crm = createSalesforceCrm({
      loginUrl: url,
      addresses: LOOPBACK_ORG_ADDRESSES,
      auth: {
        kind: 'jwt_bearer',
        clientId: 'eca-jwt',
        username: 'admin@sandbox.example',
        privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    expect(await crm.readAccount()).toEqual({ accountId: state.orgId });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = createSalesforceCrm({
      loginUrl: url,
      addresses: LOOPBACK_ORG_ADDRESSES,
      auth: {
        kind: 'jwt_bearer',
        clientId: 'eca-jwt',
        username: 'admin@sandbox.example',
        privateKeyPem: other.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    await expect(forged.readAccount()).rejects.toMatchObject({ code: 'CRM_AUTH_FAILED' });
  });

  it('reads field history newest first, a person’s edit told from ours', async () => {
    const [id] = contacts(1);
    const crm = crmWith();
    await crm.writeBatch({
      objectType: 'salesforce:Contact',
      writes: [{ recordId: id!, properties: { Title: 'CFO' } }],
    });
    const res = await fetch(`${url}/_sandbox/edit`, {
      method: 'POST',
      body: JSON.stringify({ object: 'Contact', id, values: { Title: 'CEO' } }),
    });
    expect(res.status).toBe(200);
    const history = await crm.readPropertyHistory!({
      objectType: 'salesforce:Contact',
      recordIds: [id!],
      properties: ['Title'],
    });
    expect(history.get(id!)?.['Title']?.map((change) => [change.value, change.source])).toEqual([
      ['CEO', 'person'],
      ['CFO', 'our_app'],
    ]);
  });
});

describe('Salesforce record ids', () => {
  it.each([
    ['salesforce:Contact', '003000000000001', null],
    ['salesforce:Contact', '003000000000001AAA', null],
    ['salesforce:Contact', '003000000000001AAB', 'has a wrong checksum'],
    ['salesforce:Contact', '00Q000000000001AAA', 'is not a Contact id (those start with 003)'],
    ['salesforce:Lead', '00Q000000000001', null],
    ['salesforce:Opportunity', '0060000000001', 'ids are 15 or 18 letters and digits'],
    ['contacts', '003000000000001', 'ids are digits only'],
  ])('%s %s', (objectType, id, problem) => {
    const found = recordIdProblem(objectType, id);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});

describe('Salesforce names', () => {
  it.each([
    ['ag_last_change_id', 'Agent_last_change_id__c'],
    ['ag_proposed_Title', 'Proposed_Title__c'],
    ['ag_proposed_Lead_Score__c', 'Proposed_Lead_Score_c__c'],
    ['Title', 'Title'],
  ])('our %s is the field %s, and back', (ours, theirs) => {
    expect(sfFieldName(ours)).toBe(theirs);
    expect(ourFieldName(theirs)).toBe(ours);
  });

  it.each([
    ['com/salesforce/api/rest/67.0;client=AgentGovernance', '005000000000002AAA', 'our_app'],
    ['com/salesforce/api/soap/67.0;client=SfdcInternalAPI/', '005000000000001AAA', 'person'],
    ['com/salesforce/api/rest/67.0;client=Workbench/', '005000000000001AAA', 'integration'],
    ['com/salesforce/api/apex/67.0', '005000000000001AAA', 'workflow'],
    ['com/salesforce/api/bulkapi/67.0', '005000000000001AAA', 'import'],
    ['', '005000000000001AAA', 'person'],
  ])('a change from %s is %s', (changeSource, sourceId, source) => {
    expect(salesforceChangeSource({ changeSource, sourceId, appId: 'AgentGovernance' })).toBe(source);
  });
});
