import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapWorkspace, createAgent, createWorkspace } from '../../server/src/services/governance/index.ts';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { submissionRowCounts } from '../support/row-counts.ts';

let harness: Harness;
let token: string;
const contactId = '501';

beforeAll(async () => {
  harness = await startHarness();
  const ws = await seedWorkspace(harness);
  token = ws.agents[0]!.token;
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  seedRecord(harness.hubspot.state, 'contacts', { id: contactId, properties: { email: 'a@example.com' } });
});
afterAll(() => harness.close());

const evidence = { source: 'apollo', reason: 'profile says so' };
const valid = () => ({
  batchId: 'b',
  objectType: 'contacts',
  changes: [{ recordId: contactId, properties: { jobtitle: 'CTO' }, evidence }],
});

const cases: {
  name: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  code: string;
  message: RegExp;
}[] = [
  {
    name: 'an unknown object type',
    body: { ...valid(), objectType: 'companies' },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /objectType/,
  },
  {
    name: 'an object of a CRM the workspace is not connected to',
    body: {
      ...valid(),
      objectType: 'salesforce:Contact',
      changes: [{ recordId: '003000000000001AAA', properties: { Title: 'CTO' }, evidence }],
    },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /objectType salesforce:Contact is an object of a CRM this workspace is not connected to/,
  },
  {
    name: 'an operation there is none of',
    body: {
      ...valid(),
      changes: [{ operation: 'delete', recordId: contactId, properties: { jobtitle: 'x' }, evidence }],
    },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /changes\.0\.operation must be one of update, create, associate \(or omitted\)$/,
  },
  {
    name: 'a malformed record id',
    body: { ...valid(), changes: [{ recordId: 'abc', properties: { jobtitle: 'x' }, evidence }] },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /recordId/,
  },
  {
    name: 'a property name that is not a HubSpot internal name',
    body: { ...valid(), changes: [{ recordId: contactId, properties: { 'Job Title': 'x' }, evidence }] },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /internal property name/,
  },
  {
    name: 'a property HubSpot does not have',
    body: { ...valid(), changes: [{ recordId: contactId, properties: { favorite_color: 'blue' }, evidence }] },
    status: 400,
    code: 'UNKNOWN_PROPERTY',
    message: /favorite_color/,
  },
  {
    name: 'an enumeration value that is not an option',
    body: { ...valid(), changes: [{ recordId: contactId, properties: { lifecyclestage: 'banana' }, evidence }] },
    status: 400,
    code: 'INVALID_PROPERTY_VALUE',
    message: /banana/,
  },
  {
    name: 'a boolean property given a word',
    body: { ...valid(), changes: [{ recordId: contactId, properties: { hs_email_optout: 'maybe' }, evidence }] },
    status: 400,
    code: 'INVALID_PROPERTY_VALUE',
    message: /true or false/,
  },
  {
    name: 'a value that is an object',
    body: { ...valid(), changes: [{ recordId: contactId, properties: { jobtitle: { a: 1 } }, evidence }] },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /string, a number, a boolean or null/,
  },
  {
    name: 'evidence without a source',
    body: { ...valid(), changes: [{ recordId: contactId, properties: { jobtitle: 'x' }, evidence: { reason: 'r' } }] },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /source/,
  },
  {
    name: 'the same record twice',
    body: { ...valid(), changes: [valid().changes[0], valid().changes[0]] },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /appears twice/,
  },
  {
    name: 'an unknown top-level field',
    body: { ...valid(), dryRun: true },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /dryRun/,
  },
  {
    name: 'a NUL character in a value',
    body: { ...valid(), changes: [{ recordId: contactId, properties: { jobtitle: 'a\u0000b' }, evidence }] },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /NUL/,
  },
  {
    name: 'a NUL character in the evidence',
    body: {
      ...valid(),
      changes: [
        {
          recordId: contactId,
          properties: { jobtitle: 'x' },
          evidence: { ...evidence, toolCalls: [{ name: 't', input: 'a\u0000' }] },
        },
      ],
    },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /NUL/,
  },
  { name: 'malformed JSON', raw: '{"batchId": ', status: 400, code: 'MALFORMED_JSON', message: /not valid JSON/ },
  {
    name: 'a body over the size limit',
    raw: JSON.stringify({ ...valid(), pad: 'x'.repeat(3 * 1024 * 1024) }),
    status: 413,
    code: 'BODY_TOO_LARGE',
    message: /larger than this server accepts \(2097152 bytes, MAX_BODY_BYTES\); split the batch/,
  },
  {
    name: 'a body in a Content-Encoding the server does not read',
    raw: JSON.stringify(valid()),
    headers: { 'content-encoding': 'compress' },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /Content-Encoding this server does not read/,
  },
  {
    name: 'a body that says it is gzip and is not',
    raw: JSON.stringify(valid()),
    headers: { 'content-encoding': 'gzip' },
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /Content-Encoding/,
  },
];

describe('POST /v1/changesets with bad input', () => {
  it.each(cases)(
    'refuses $name with $status $code and stores and writes nothing',
    async ({ body, raw, headers, status, code, message }) => {
      const before = await submissionRowCounts(harness.database.db);
      const updates = harness.hubspot.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/update' });
      const res = await api(harness, 'POST', '/v1/changesets', {
        token,
        ...(raw === undefined ? { body } : { raw }),
        ...(headers ? { headers } : {}),
      });
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message).toMatch(message);
      expect(res.body.error.requestId).toBeTruthy();
      expect(await submissionRowCounts(harness.database.db)).toEqual(before);
      expect(harness.hubspot.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/update' })).toBe(updates);
    },
  );

  it('refuses with NO_ACTIVE_POLICY when the workspace never published one, storing nothing', async () => {
    const workspace = await createWorkspace(
      harness.deps,
      { name: 'Fresh', hubspotPortalId: '777', hubspotToken: harness.hubspot.accessToken },
      ADMIN,
    );
    const agent = await createAgent(harness.deps, workspace.id, { name: 'e', role: 'enrichment' }, ADMIN);
    const before = await submissionRowCounts(harness.database.db);
    const res = await api(harness, 'POST', '/v1/changesets', { token: agent.token, body: valid() });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('NO_ACTIVE_POLICY');
    expect(await submissionRowCounts(harness.database.db)).toEqual(before);
  });

  it('answers an unknown route with a JSON 404', async () => {
    const res = await api(harness, 'GET', '/v1/nothing-here', { token });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });
});
