import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import { rawExchange } from '../support/raw-http.ts';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../server/src/cli/commands.ts';
import { parseCommandLine } from '../../server/src/cli/parse.ts';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { ADMIN, EXAMPLE_POLICY, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { allRowCounts } from '../support/row-counts.ts';
import { cliOver } from '../support/cli.ts';
import { deliver, propertyChange, seedWebhookWorkspace } from '../support/webhooks.ts';

// Issue 17, defects 1, 6 and 8: what an agent, an admin or a forged request sends must be refused
// with a 4xx before any database or CRM work, never stored in a form the audit cannot verify.
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let contactId: string;
let approvalId: string;

const deep = (levels: number, leaf = '1') => `${'['.repeat(levels)}${leaf}${']'.repeat(levels)}`;
const changeSet = (batchId: string, evidence = '{"source":"apollo","reason":"profile says so"}') =>
  `{"batchId":"${batchId}","objectType":"contacts","changes":[{"recordId":"${contactId}","properties":{"jobtitle":"CTO"},"evidence":${evidence}}]}`;
const withToolInput = (input: string) =>
  changeSet('tools', `{"source":"apollo","reason":"r","toolCalls":[{"name":"lookup","input":${input}}]}`);
const policyWith = (patch: (policy: string) => string) => patch(JSON.stringify(EXAMPLE_POLICY));

beforeAll(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '9001': 'approver' });
  contactId = seedContact(harness);
  approvalId = await proposeHeld(harness, {
    token: ws.agents[0]!.token,
    adminToken: ws.adminToken,
    recordId: seedContact(harness),
    properties: { phone: '+1 555 0100' },
  });
});
afterAll(() => harness.close());

interface Case {
  name: string;
  method: string;
  path: string;
  as: 'agent' | 'admin';
  /** The JSON text as sent: escapes such as \ud800 stay escapes on the wire. */
  raw?: string;
  contentType?: string;
  status: number;
  code: string;
  message: RegExp;
}

const UNSAFE = /must not contain a NUL character or an unpaired UTF-16 surrogate/;

const cases: Case[] = [
  // Defect 1: stored as U+FFFD but hashed as sent, this broke `audit verify` for good.
  {
    name: 'a lone surrogate in a change set’s batchId',
    method: 'POST',
    path: '/v1/changesets',
    as: 'agent',
    raw: changeSet('sur\\ud800batch'),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /batchId must not contain/,
  },
  {
    name: 'a lone surrogate in a key of free-form evidence',
    method: 'POST',
    path: '/v1/changesets',
    as: 'agent',
    raw: withToolInput('{"a\\udc00":1}'),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /is a key that must not contain/,
  },
  {
    name: 'a lone surrogate in a value of free-form evidence',
    method: 'POST',
    path: '/v1/changesets',
    as: 'agent',
    raw: withToolInput('["ok","x\\ud800"]'),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /toolCalls\.0\.input\.1 must not contain/,
  },
  // Defect 6: each of these answered 500.
  {
    name: 'a NUL in a change set’s batchId',
    method: 'POST',
    path: '/v1/changesets',
    as: 'agent',
    raw: changeSet('nul\\u0000batch'),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: UNSAFE,
  },
  {
    name: 'evidence tool calls nested ten thousand levels deep',
    method: 'POST',
    path: '/v1/changesets',
    as: 'agent',
    raw: withToolInput(deep(10_000)),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /nests deeper than 32 levels/,
  },
  {
    name: 'a lone surrogate in a note’s body (the CRM was read first)',
    method: 'POST',
    path: '/v1/actions',
    as: 'agent',
    raw: `{"kind":"create_note","objectType":"contacts","recordId":"${'CONTACT'}","evidence":{"source":"s","reason":"r"},"body":"x\\ud800"}`,
    status: 400,
    code: 'VALIDATION_FAILED',
    message: UNSAFE,
  },
  {
    name: 'a NUL in an agent’s name',
    method: 'POST',
    path: '/v1/admin/agents',
    as: 'admin',
    raw: '{"name":"a\\u0000b","role":"enrichment"}',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: UNSAFE,
  },
  {
    name: 'a NUL in a kill switch’s reason',
    method: 'PUT',
    path: '/v1/admin/kill-switches',
    as: 'admin',
    raw: '{"scope":"workspace","engaged":true,"reason":"a\\u0000b"}',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: UNSAFE,
  },
  {
    name: 'a NUL in a policy’s name',
    method: 'POST',
    path: '/v1/admin/policies',
    as: 'admin',
    raw: policyWith((p) => p.replace(/"name":"[^"]*"/, '"name":"a\\u0000b"')),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: UNSAFE,
  },
  {
    name: 'a lone surrogate in a policy stored as jsonb',
    method: 'POST',
    path: '/v1/admin/policies',
    as: 'admin',
    raw: policyWith((p) => p.replace(/"description":"[^"]*"/, '"description":"a\\ud800b"')),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: UNSAFE,
  },
  {
    name: 'a policy tier nested ten thousand levels deep',
    method: 'POST',
    path: '/v1/admin/policies',
    as: 'admin',
    raw: policyWith((p) => p.replace(/"enrichment":"auto"/, `"enrichment":${deep(10_000, '"auto"')}`)),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /nests deeper than 32 levels/,
  },
  {
    name: 'a NUL in a rollback selector',
    method: 'POST',
    path: '/v1/admin/rollbacks',
    as: 'admin',
    raw: '{"selector":{"batchId":"a\\u0000"},"dryRun":true}',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: UNSAFE,
  },
  {
    name: 'a NUL in a reject reason',
    method: 'POST',
    path: '/v1/admin/approvals/APPROVAL/decisions',
    as: 'admin',
    raw: '{"kind":"reject","actingUserId":"9001","reason":"no\\u0000pe"}',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: UNSAFE,
  },
  {
    name: 'a NUL in a query string',
    method: 'GET',
    path: '/v1/admin/audit/export?batch=%00',
    as: 'admin',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: UNSAFE,
  },
  {
    name: 'a rollback id that is not a uuid, to pause',
    method: 'POST',
    path: '/v1/admin/rollbacks/not-a-uuid/pause',
    as: 'admin',
    status: 404,
    code: 'NOT_FOUND',
    message: /no rollback not-a-uuid/,
  },
  {
    name: 'a rollback id that is not a uuid, to resume',
    method: 'POST',
    path: '/v1/admin/rollbacks/not-a-uuid/resume',
    as: 'admin',
    status: 404,
    code: 'NOT_FOUND',
    message: /no rollback not-a-uuid/,
  },
  {
    name: 'a path id that is not UTF-8 once decoded',
    method: 'GET',
    path: '/v1/changesets/%ED%A0%80',
    as: 'agent',
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /percent-encoded UTF-8/,
  },
  {
    name: 'a `__proto__` key',
    method: 'POST',
    path: '/v1/changesets',
    as: 'agent',
    raw: withToolInput('{"__proto__":{"admin":true}}'),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /__proto__ is a key no request may use/,
  },
  {
    name: 'a body that is not JSON',
    method: 'POST',
    path: '/v1/changesets',
    as: 'agent',
    raw: 'batchId=b',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /Content-Type: application\/json/,
  },
  // A key given twice kept its last value and dropped the other without a word.
  {
    name: 'a property given two values in one change',
    method: 'POST',
    path: '/v1/changesets',
    as: 'agent',
    raw: changeSet('twice').replace('"jobtitle":"CTO"', '"jobtitle":"CTO","jobtitle":"CEO"'),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /changes\.0\.properties holds the key "jobtitle" twice/,
  },
  {
    name: 'a key given twice in free-form evidence, once escaped',
    method: 'POST',
    path: '/v1/changesets',
    as: 'agent',
    raw: withToolInput('{"a":1,"\\u0061":2}'),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /evidence\.toolCalls\.0\.input holds the key "a" twice/,
  },
  {
    name: 'a policy whose later rule for a field would replace the one a reviewer read',
    method: 'POST',
    path: '/v1/admin/policies',
    as: 'admin',
    raw: policyWith((p) =>
      p.replace(
        '"jobtitle":{"enrichment":"auto"}',
        '"jobtitle":{"enrichment":"deny"},"jobtitle":{"enrichment":"auto"}',
      ),
    ),
    status: 400,
    code: 'VALIDATION_FAILED',
    message: /objects\.contacts\.properties holds the key "jobtitle" twice/,
  },
  // A UTF-8 body labelled Latin-1 was decoded as Latin-1: "José" became "JosÃ©" in the CRM.
  ...['iso-8859-1', 'utf-16le', '"windows-1252"'].map(
    (charset): Case => ({
      name: `a body in charset ${charset}`,
      method: 'POST',
      path: '/v1/changesets',
      as: 'agent',
      raw: changeSet('José'),
      contentType: `application/json; charset=${charset}`,
      status: 400,
      code: 'VALIDATION_FAILED',
      message: /must be UTF-8; it came as charset/,
    }),
  ),
];

describe('bad input on the API', () => {
  it.each(cases)('refuses $name with $status $code, storing nothing and calling no CRM', async (c) => {
    const before = await allRowCounts(harness.database.db);
    const crmCalls = harness.hubspot.calls.count();
    const res = await fetch(`${harness.url}${c.path.replace('APPROVAL', approvalId)}`, {
      method: c.method,
      headers: {
        authorization: `Bearer ${c.as === 'agent' ? ws.agents[0]!.token : ws.adminToken}`,
        ...(c.raw === undefined ? {} : { 'content-type': c.contentType ?? 'application/json' }),
      },
      ...(c.raw === undefined ? {} : { body: c.raw.replace('CONTACT', contactId) }),
    });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect({ status: res.status, code: body.error?.code }).toEqual({ status: c.status, code: c.code });
    expect(body.error.message).toMatch(c.message);
    expect(await allRowCounts(harness.database.db)).toEqual(before);
    expect(harness.hubspot.calls.count()).toBe(crmCalls);
  });

  it('still accepts paired surrogates (an emoji) and keeps them as sent', async () => {
    const res = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agents[0]!.token,
      raw: changeSet('emoji-\\ud83d\\ude80'),
    });
    expect(res.status).toBe(201);
    expect(res.body.batchId).toBe('emoji-🚀');
  });

  it.each(['utf-8', 'UTF-8', '"utf-8"', 'utf8'])('reads a body labelled charset=%s as UTF-8', async (charset) => {
    const res = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agents[0]!.token,
      raw: changeSet('José'),
      headers: { 'content-type': `application/json; charset=${charset}` },
    });
    expect(res.status).toBe(201);
    expect(res.body.batchId).toBe('José');
  });

  it('keeps a key with an escape as sent after a look-alike key (V8 misreads it: nodejs/node#63785)', async () => {
    // The first key ends in a literal backslash; JSON.parse then reads the second's `q\n` as `q\`.
    for (const [batch, input] of [
      ['lookalike-1', '{"y":1,"q\\\\":1}'],
      ['lookalike-2', '{"y":1,"q\\n":1}'],
    ] as const) {
      const res = await api(harness, 'POST', '/v1/changesets', {
        token: ws.agents[0]!.token,
        raw: withToolInput(input).replace('"tools"', `"${batch}"`),
      });
      expect(res.status).toBe(201);
    }
    const stored = await harness.database.db.execute(
      sql`select evidence::text as evidence from audit_events where batch_id = 'lookalike-2' and evidence is not null`,
    );
    const rows = (stored as unknown as { rows: { evidence: string }[] }).rows;
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.evidence).toContain('"q\\n":1');
  });
});

describe('bad input elsewhere', () => {
  it('refuses a signed webhook whose payload holds a lone surrogate, storing nothing', async () => {
    const hook = await seedWebhookWorkspace(harness);
    const before = await allRowCounts(harness.database.db);
    const body = JSON.stringify([propertyChange(hook.portalId, { propertyValue: 'PLACEHOLDER' })]).replace(
      'PLACEHOLDER',
      'x\\ud800',
    );
    const res = await deliver(harness, undefined, { body, clientSecret: hook.clientSecret });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/0\.propertyValue must not contain/) },
    });
    expect(await allRowCounts(harness.database.db)).toEqual(before);
  });

  it.each([
    [
      'headers larger than the server reads',
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      /headers are larger/,
    ],
    ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n', 400, /not a valid HTTP request/],
  ])(
    'answers %s with a JSON error a person can read, not a bare status line',
    async (_name, request, status, message) => {
      // Node answered these itself, before Express: a status line and no body, no code, no sentence.
      const answer = await rawExchange(harness.url, request, { end: true });
      const [head, body] = answer.split('\r\n\r\n');
      expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
      expect(JSON.parse(body!)).toMatchObject({
        error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(message) },
      });
    },
  );

  it('refuses a kill switch change from the HubSpot app that gives `engaged` twice, changing nothing', async () => {
    const app = await seedAppWorkspace(harness, { '9003': 'owner' });
    const before = await allRowCounts(harness.database.db);
    const res = await callAsHubSpot(harness, {
      method: 'PUT',
      path: '/kill-switches',
      raw: '{"scope":"workspace","engaged":true,"engaged":false,"reason":"Incident 7."}',
      portalId: app.portalId,
      userId: '9003',
      clientSecret: app.clientSecret,
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/\(root\) holds the key "engaged" twice/) },
    });
    expect(await allRowCounts(harness.database.db)).toEqual(before);
  });

  it('refuses a policy file that gives a field two rules, naming where, before publishing anything', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ag-policy-')), 'policy.json');
    const text = JSON.stringify(EXAMPLE_POLICY, null, 2);
    fs.writeFileSync(
      file,
      text.replace('"jobtitle": {', '"jobtitle": { "enrichment": "deny" },\n        "jobtitle": {'),
    );
    const before = await allRowCounts(harness.database.db);
    const result = await cliOver(harness, 'policy', 'apply', '--workspace', ws.workspaceId, file, '--json');
    expect(result.code).toBe(1);
    expect(result.json.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/objects\.contacts\.properties holds the key "jobtitle" twice/),
    });
    expect(await allRowCounts(harness.database.db)).toEqual(before);
  });

  it.each([
    ['a lone surrogate', 'enricher-\ud800'],
    ['a NUL', 'enricher\u0000'],
  ])('refuses a CLI argument holding %s before running any command', (_name, value) => {
    expect(() =>
      parseCommandLine(['agents', 'create', '--workspace', 'w', '--name', value, '--role', 'enrichment'], COMMANDS),
    ).toThrow(/Argument 6 must not contain a NUL character or an unpaired UTF-16 surrogate/);
  });
});

describe('the HubSpot timestamp header', () => {
  // Signed correctly over the header as written: only the header's form is wrong.
  const sign = (secret: string, method: string, url: string, body: string, timestamp: string) =>
    createHmac('sha256', secret).update(`${method}${url}${body}${timestamp}`).digest('base64');

  it.each([
    ['a decimal', (now: number) => `${now}.0`],
    ['an exponent', (now: number) => `${now / 1000}e3`],
    ['a plus sign', (now: number) => `+${now}`],
  ])(
    'refuses a webhook whose timestamp is %s, even signed, with 401 WEBHOOK_SIGNATURE_INVALID',
    async (_name, form) => {
      const hook = await seedWebhookWorkspace(harness);
      const url = `${harness.url}/webhooks/hubspot`;
      const body = JSON.stringify([propertyChange(hook.portalId)]);
      const timestamp = form(Date.now());
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hubspot-signature-v3': sign(hook.clientSecret, 'POST', url, body, timestamp),
          'x-hubspot-request-timestamp': timestamp,
        },
        body,
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({
        error: { code: 'WEBHOOK_SIGNATURE_INVALID', message: expect.stringMatching(/digits only/) },
      });
    },
  );

  it('refuses the same on a request from the HubSpot app', async () => {
    const app = await seedAppWorkspace(harness, { '9002': 'owner' });
    const now = Date.now();
    const ok = await callAsHubSpot(harness, {
      path: '/home',
      portalId: app.portalId,
      userId: '9002',
      clientSecret: app.clientSecret,
      timestamp: now,
    });
    expect(ok.status).toBe(200);
    const url = `${harness.url}/v1/extension/home?userId=9002&portalId=${app.portalId}`;
    const timestamp = `${now}.0`;
    const res = await fetch(url, {
      headers: {
        'x-hubspot-signature-v3': sign(app.clientSecret, 'GET', url, '', timestamp),
        'x-hubspot-request-timestamp': timestamp,
      },
    });
    expect(res.status).toBe(401);
  });
});
