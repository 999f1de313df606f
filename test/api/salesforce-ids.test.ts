import { hubspotOrSalesforce, sandboxSalesforceConnection } from '../support/salesforce.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { type RunningSalesforceSandbox, startSalesforceSandbox } from '../../server/src/sandbox/salesforce/start.ts';
import { createRecord, newId } from '../../server/src/sandbox/salesforce/state.ts';
import {
  createAgent,
  createSalesforceWorkspace,
  publishPolicy,
  setPersonRole,
} from '../../server/src/services/governance/index.ts';
import { consoleCall, signInAs } from '../support/console.ts';
import { EVIDENCE } from '../support/rollbacks.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

// Issue 20: Salesforce ids are taken wherever ids come in (filters, people, deciders), and checked
// against the object type beside them: its key prefix and an 18-character id's checksum. A
// 15-character id is taken in its 18-character form, so either form finds what the other stored.
let harness: Harness;
let sandbox: RunningSalesforceSandbox;
let ws: { id: string; adminToken: string };
let agentToken: string;
const REP = newId('005', 1); // the org's admin, who owns the contact below
const AUDITOR = newId('005', 7);
let contact: string;
let lead: string;

const POLICY = {
  name: 'Salesforce',
  timezone: 'America/New_York',
  objects: { 'salesforce:Contact': { properties: { Department: { enrichment: 'approval' } } } },
  actions: { create_note: { enrichment: 'approval' } },
};

/** The same id with its checksum's last character changed. */
const wrongChecksum = (id: string) => id.slice(0, 17) + (id.endsWith('A') ? 'B' : 'A');
/** The 15-character form of an 18-character id: the same record. */
const short = (id: string) => id.slice(0, 15);

beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ port: 0, seed: false });
  harness = await startHarness({
    hubspotOverHttp: true,
    crmFor: hubspotOrSalesforce,
  });
  ws = await createSalesforceWorkspace(
    harness.deps,
    {
      name: 'Org',
      connection: sandboxSalesforceConnection(sandbox.url),
    },
    ADMIN,
  );
  await publishPolicy(harness.deps, ws.id, POLICY, ADMIN);
  agentToken = (await createAgent(harness.deps, ws.id, { name: 'enricher', role: 'enrichment' }, ADMIN)).token;
  await setPersonRole(harness.deps, ws.id, { crmUserId: REP, role: 'approver' }, ADMIN);
  await setPersonRole(harness.deps, ws.id, { crmUserId: AUDITOR, role: 'auditor' }, ADMIN);
  const by = { userId: REP, origin: '' };
  contact = createRecord(sandbox.state, 'Contact', { LastName: 'Lovelace', Department: 'Ops', OwnerId: REP }, by);
  lead = createRecord(sandbox.state, 'Lead', { LastName: 'Byron', Company: 'Acme' }, by);
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await sandbox?.close();
});

const admin = (method: string, path: string, body?: unknown) =>
  api(harness, method, path, { token: ws.adminToken, body });

describe('Salesforce ids in a Salesforce workspace', () => {
  it('finds a held write, a draft and their audit events by either form of a Salesforce record id, and its decider by user id', async () => {
    expect(contact).toHaveLength(18);
    // The agent names the contact by its 15-character form; it is stored in its 18-character one.
    const submitted = await api(harness, 'POST', '/v1/changesets', {
      token: agentToken,
      body: {
        batchId: 'sf-departments',
        objectType: 'salesforce:Contact',
        changes: [{ recordId: short(contact), properties: { Department: 'Finance' }, evidence: EVIDENCE }],
      },
    });
    expect(submitted.status).toBe(201);
    const note = await api(harness, 'POST', '/v1/actions', {
      token: agentToken,
      body: {
        kind: 'create_note',
        objectType: 'salesforce:Contact',
        recordId: short(contact),
        body: 'Moved to Finance.',
        evidence: EVIDENCE,
      },
    });
    expect(note.status).toBe(201);
    expect(note.body.status).toBe('pending');

    const held = await admin('GET', `/v1/admin/approvals?record=${contact}&kind=field_change`);
    expect(held.status).toBe(200);
    expect(held.body.approvals).toEqual([
      expect.objectContaining({ recordId: contact, batchId: 'sf-departments', status: 'pending' }),
    ]);
    expect(
      (await admin('GET', `/v1/admin/approvals?record=${short(contact)}&kind=field_change`)).body.approvals,
    ).toEqual(held.body.approvals);
    for (const record of [contact, short(contact)]) {
      const actions = await admin('GET', `/v1/admin/actions?record=${record}`);
      expect(actions.status).toBe(200);
      expect(actions.body.actions).toEqual([expect.objectContaining({ id: note.body.id, recordId: contact })]);
    }

    // A Salesforce user decides by the 15-character form of their id (all digits here, as the local
    // org's are), and is found again by either form.
    const decided = await admin('POST', `/v1/admin/approvals/${held.body.approvals[0].id}/decisions`, {
      kind: 'approve',
      actingUserId: short(REP),
    });
    expect(decided.body.status).toBe('applied');
    for (const record of [contact, short(contact)]) {
      const exported = await fetch(`${harness.url}/v1/admin/audit/export?record=${record}`, {
        headers: { authorization: `Bearer ${ws.adminToken}` },
      });
      expect(exported.status).toBe(200);
      const exportedTypes = (await exported.text())
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { type: string }).type);
      expect(exportedTypes).toEqual(expect.arrayContaining(['approval.decided', 'action.held']));
    }

    const auditor = await signInAs(harness, ws.id, AUDITOR);
    for (const person of [REP, short(REP)]) {
      const byPerson = await consoleCall(harness, auditor, 'GET', `/console/api/audit?person=${person}`);
      expect(byPerson.status).toBe(200);
      const events = ((await byPerson.json()) as { events: { type: string; recordId: string }[] }).events;
      expect(events).toEqual(
        expect.arrayContaining([expect.objectContaining({ type: 'approval.decided', recordId: contact })]),
      );
      const personExport = await consoleCall(harness, auditor, 'GET', `/console/api/audit/export?person=${person}`);
      expect(personExport.status).toBe(200);
      expect(await personExport.text()).toContain('approval.decided');
    }
  }, 60_000);

  it('takes Salesforce user ids from people and deciders of creations', async () => {
    // Given in their 15-character forms, both ids are kept in their 18-character ones.
    const person = await admin('PUT', `/v1/admin/people/${short(AUDITOR)}`, {
      role: 'rep',
      crmOwnerId: short(AUDITOR),
    });
    expect(person.status).toBe(200);
    expect(person.body).toMatchObject({ crmUserId: AUDITOR, role: 'rep', crmOwnerId: AUDITOR });
    // The decision is read: no such creation, not a bad decider.
    const creation = await admin('POST', `/v1/admin/creations/${randomUUID()}/decisions`, {
      kind: 'approve',
      actingUserId: REP,
    });
    expect(creation.status).toBe(404);
  });

  it.each([
    ['a wrong checksum', () => `/v1/admin/approvals?record=${wrongChecksum(contact)}`, 'record', 'checksum'],
    ['a wrong checksum', () => `/v1/admin/actions?record=${wrongChecksum(contact)}`, 'record', 'checksum'],
    ['a wrong checksum', () => `/v1/admin/audit/export?record=${wrongChecksum(contact)}`, 'record', 'checksum'],
    [
      'a Lead id for a contact',
      () => `/v1/admin/reviews?objectType=salesforce:Contact&recordId=${lead}`,
      'recordId',
      'is not a Contact id (those start with 003)',
    ],
    ['a user id with a wrong checksum', () => `/v1/admin/people/${wrongChecksum(REP)}`, 'The CRM user id', 'checksum'],
    ['not an id', () => '/v1/admin/approvals?record=003-000', 'record', 'must be a CRM record id'],
    ['a NUL', () => '/v1/admin/approvals?record=003%00', 'record', 'NUL'],
    ['a huge value', () => `/v1/admin/actions?record=${'0'.repeat(5_000)}`, 'record', 'must be a CRM record id'],
  ])('refuses %s with a 400 naming the field (%#)', async (_what, path, field, problem) => {
    const url = path();
    const res = url.startsWith('/v1/admin/people/')
      ? await admin('PUT', url, { role: 'approver' })
      : await admin('GET', url);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toContain(`${field} `);
    expect(res.body.error.message).toContain(problem);
  });

  it('checks an id beside its object type wherever one comes in, and a decider’s id in a body', async () => {
    const refusals = [
      await api(harness, 'POST', '/v1/actions', {
        token: agentToken,
        body: { kind: 'create_note', objectType: 'salesforce:Contact', recordId: lead, body: 'x', evidence: EVIDENCE },
      }),
      await api(harness, 'POST', '/v1/records/read', {
        token: agentToken,
        body: { objectType: 'salesforce:Lead', recordIds: [lead, wrongChecksum(lead), contact] },
      }),
      await admin('POST', '/v1/admin/erasures', { objectType: 'salesforce:Lead', recordId: contact }),
      await admin('POST', '/v1/admin/reviews/clear', { objectType: 'contacts', recordId: contact }),
      await admin('POST', `/v1/admin/creations/${randomUUID()}/decisions`, {
        kind: 'approve',
        actingUserId: wrongChecksum(REP),
      }),
      await admin('POST', `/v1/admin/creations/${randomUUID()}/decisions`, { kind: 'approve', actingUserId: '\ud800' }),
    ];
    expect(refusals.map((res) => res.status)).toEqual([400, 400, 400, 400, 400, 400]);
    expect(refusals.map((res) => res.body.error.message)).toEqual([
      `The action is invalid: recordId ${lead} is not a Contact id (those start with 003)`,
      `The read is invalid: recordIds.1 ${wrongChecksum(lead)} has a wrong checksum in its last 3 characters (and 1 more problem)`,
      `The erasure request is invalid: recordId ${contact} is not a Lead id (those start with 00Q)`,
      `The record is invalid: recordId contacts ids are digits only; got ${contact}`,
      `The decision is invalid: actingUserId ${wrongChecksum(REP)} has a wrong checksum in its last 3 characters`,
      expect.stringContaining('actingUserId must not contain a NUL character or an unpaired UTF-16 surrogate'),
    ]);
    expect(refusals[1]!.body.error.details.issues).toEqual([
      { path: 'recordIds.1', message: `${wrongChecksum(lead)} has a wrong checksum in its last 3 characters` },
      { path: 'recordIds.2', message: `${contact} is not a Lead id (those start with 00Q)` },
    ]);

    const auditor = await signInAs(harness, ws.id, AUDITOR);
    const page = await consoleCall(harness, auditor, 'GET', `/console/api/records/salesforce:Lead/${contact}`);
    expect(page.status).toBe(400);
    expect(((await page.json()) as { error: { message: string } }).error.message).toBe(
      `The record is invalid: recordId ${contact} is not a Lead id (those start with 00Q)`,
    );
    const search = await consoleCall(harness, auditor, 'GET', `/console/api/audit?person=${wrongChecksum(REP)}`);
    expect(search.status).toBe(400);
    expect(((await search.json()) as { error: { message: string } }).error.message).toContain('person ');
  });
});

describe('a value the org would refuse', () => {
  it('is refused with the change set, naming the field and its limit; nothing is stored or written', async () => {
    const calls = sandbox.state.calls.length;
    const before = { ...sandbox.state.objects.get('Contact')!.records.get(contact) };
    const res = await api(harness, 'POST', '/v1/changesets', {
      token: agentToken,
      body: {
        batchId: 'too-long',
        objectType: 'salesforce:Contact',
        changes: [{ recordId: contact, properties: { Department: 'x'.repeat(256) }, evidence: EVIDENCE }],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'INVALID_PROPERTY_VALUE',
      message: `Record ${contact}: Department keeps at most 255 characters; this value has 256.`,
    });
    // The read and describe before validation, no write.
    expect(sandbox.state.calls.slice(calls).filter((call) => call.method === 'PATCH')).toEqual([]);
    expect(sandbox.state.objects.get('Contact')!.records.get(contact)).toEqual(before);
    const held = await admin('GET', '/v1/admin/approvals?batch=too-long');
    expect(held.status).toBe(200);
    expect(JSON.stringify(held.body)).not.toContain(contact);
  });

  it('is refused when a field naming another record is given something that is no id', async () => {
    const res = await api(harness, 'POST', '/v1/changesets', {
      token: agentToken,
      body: {
        batchId: 'not-an-id',
        objectType: 'salesforce:Contact',
        changes: [{ recordId: contact, properties: { OwnerId: 'jane@acme.com' }, evidence: EVIDENCE }],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'INVALID_PROPERTY_VALUE',
      message: `Record ${contact}: OwnerId names a record and needs that record's id.`,
    });
  });
});

describe('HubSpot ids beside them', () => {
  it('keeps filtering by digit record and user ids', async () => {
    const hubspot = await seedWorkspace(harness);
    const approvals = await api(harness, 'GET', '/v1/admin/approvals?record=4242', { token: hubspot.adminToken });
    expect(approvals).toMatchObject({ status: 200, body: { approvals: [] } });
    const actions = await api(harness, 'GET', '/v1/admin/actions?record=4242', { token: hubspot.adminToken });
    expect(actions).toMatchObject({ status: 200, body: { actions: [] } });
    const lettered = await api(harness, 'GET', '/v1/admin/approvals?record=42a', { token: hubspot.adminToken });
    expect(lettered.status).toBe(400);
    expect(lettered.body.error.message).toContain('record must be a CRM record id (digits only on HubSpot');
  });
});
