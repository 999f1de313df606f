import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSalesforceCrm } from '../../server/src/crm/salesforce/adapter.ts';
import {
  createSalesforceSandboxServer,
  type SalesforceSandboxServer,
} from '../../server/src/sandbox/salesforce/http-server.ts';
import {
  addClient,
  createRecord,
  createSalesforceSandboxState,
  newId,
  type SalesforceSandboxState,
} from '../../server/src/sandbox/salesforce/state.ts';
import { noteText, sandboxNote } from '../support/salesforce.ts';
import { LOOPBACK_ORG_ADDRESSES } from '../support/outbound.ts';

// Issue 20: the adapter's tasks and notes against the local Salesforce: a task one sObject
// Collections create, a note a ContentNote and its ContentDocumentLink in one composite request;
// a refusal comes back with its statusCode, nothing is left half made, nothing is sent twice.
let state: SalesforceSandboxState;
let sandbox: SalesforceSandboxServer;
let sandboxUrl: string;
/** In front of the sandbox: answers creates with `failCreates` when set, and counts them. */
let proxy: Server;
let proxyUrl: string;
let failCreates: 'status-503' | 'drop' | null = null;
let createsSeen = 0;
const person = { userId: '', origin: '' };
const due = new Date('2026-03-02T10:00:00Z');

beforeAll(async () => {
  state = createSalesforceSandboxState();
  sandbox = createSalesforceSandboxServer(state);
  sandboxUrl = await sandbox.listen(0);
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      if (req.method === 'POST' && /\/composite(\/sobjects)?$/.test(req.url ?? '')) {
        createsSeen += 1;
        if (failCreates === 'drop') return void req.socket.destroy();
        if (failCreates === 'status-503') {
          res.writeHead(503, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify([{ errorCode: 'SERVER_UNAVAILABLE', message: 'try later' }]));
        }
      }
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'sforce-call-options'])
        if (typeof req.headers[name] === 'string') headers[name] = req.headers[name];
      const answer = await fetch(`${sandboxUrl}${req.url}`, {
        method: req.method,
        headers,
        ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
      });
      const text = (await answer.text()).replaceAll(sandboxUrl, proxyUrl);
      const kept: Record<string, string> = { 'content-type': answer.headers.get('content-type') ?? 'application/json' };
      const usage = answer.headers.get('sforce-limit-info');
      if (usage) kept['sforce-limit-info'] = usage;
      res.writeHead(answer.status, kept);
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  proxy.closeAllConnections();
  await new Promise((resolve) => proxy.close(resolve));
  await sandbox.close();
});

beforeEach(() => {
  failCreates = null;
  createsSeen = 0;
  state.calls.length = 0;
  state.faults.rejectRecords.clear();
  state.clients.clear();
  addClient(state, { clientId: 'eca-1', clientSecret: 'secret-1' });
});

const crm = () =>
  createSalesforceCrm({
    loginUrl: proxyUrl,
    addresses: LOOPBACK_ORG_ADDRESSES,
    auth: { kind: 'client_credentials', clientId: 'eca-1', clientSecret: 'secret-1' },
  });
const tasks = () => state.objects.get('Task')!.records;
const notes = () => state.objects.get('ContentNote')!.records;
const links = () => state.objects.get('ContentDocumentLink')!.records;
const contact = () => createRecord(state, 'Contact', { LastName: 'Lovelace' }, person);

describe('tasks and notes through the Salesforce adapter', () => {
  it('links a task to a lead by WhoId, and a ContentNote to it by a ContentDocumentLink, one call each, tagged with our client id', async () => {
    const lead = createRecord(state, 'Lead', { LastName: 'Byron', Company: 'Acme' }, person);
    const adapter = crm();
    const task = await adapter.createTask({
      objectType: 'salesforce:Lead',
      recordId: lead,
      subject: 'Qualify',
      dueAt: due,
    });
    const note = await adapter.createNote({
      objectType: 'salesforce:Lead',
      recordId: lead,
      body: '\n  Met at the fair.  \nWants a demo.',
      timestamp: due,
    });
    expect(task.id.startsWith('00T')).toBe(true);
    expect(tasks().get(task.id)).toEqual({
      WhoId: lead,
      Subject: 'Qualify',
      Status: 'Not Started',
      ActivityDate: '2026-03-02',
    });
    // The note's id is its ContentDocument's, the one the link names.
    expect(note.id.startsWith('069')).toBe(true);
    expect(await sandboxNote(sandboxUrl, note.id)).toEqual({
      title: 'Met at the fair.',
      text: '\n  Met at the fair.  \nWants a demo.',
      links: [{ LinkedEntityId: lead, ShareType: 'V', Visibility: 'AllUsers' }],
    });
    expect(state.calls.filter((call) => call.method === 'POST')).toEqual([
      { method: 'POST', path: '/composite/sobjects', callOptions: 'client=AgentGovernance' },
      { method: 'POST', path: '/composite', callOptions: 'client=AgentGovernance' },
    ]);
  });

  it('writes a note’s text as escaped HTML that reads back exactly, markup, quotes and any script included', async () => {
    const id = contact();
    const body =
      'Ada <script>alert("hi")</script> & Bob\'s "deal" &amp; <b>not bold</b>\nÜber café — 日本語 😀\n\n  last line';
    const note = await crm().createNote({ objectType: 'salesforce:Contact', recordId: id, body, timestamp: due });
    const content = notes().get(note.id)?.['Content'];
    const html = Buffer.from(content ?? '', 'base64').toString('utf8');
    expect(html).toContain('Ada &lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; Bob&#39;s');
    expect(html).not.toMatch(/<(?!br>)/);
    expect(noteText(content)).toBe(body);
    expect((await sandboxNote(sandboxUrl, note.id))?.title).toBe(
      'Ada <script>alert("hi")</script> & Bob\'s "deal" &amp; <b>not bold</b>',
    );

    // CR LF and a lone CR are line breaks; a control character, which HTML cannot carry, is U+FFFD.
    const odd = await crm().createNote({
      objectType: 'salesforce:Contact',
      recordId: id,
      body: 'bell\u0007\r\nnext\rlast',
      timestamp: due,
    });
    expect(noteText(notes().get(odd.id)?.['Content'])).toBe('bell\ufffd\nnext\nlast');
  });

  it.each([
    ['a contact the org does not have', () => newId('003', 9_999), 'Call', 'INVALID_CROSS_REFERENCE_KEY'],
    ['a subject longer than Subject holds', () => contact(), 'x'.repeat(256), 'STRING_TOO_LONG'],
    [
      'a refusal planted on the contact',
      () => {
        const id = contact();
        state.faults.rejectRecords.set(id, { statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'No tasks' });
        return id;
      },
      'Call',
      'FIELD_CUSTOM_VALIDATION_EXCEPTION',
    ],
  ])('refuses a task on %s with the record’s statusCode, sent once', async (_what, recordId, subject, code) => {
    const before = tasks().size;
    const refused = crm().createTask({ objectType: 'salesforce:Contact', recordId: recordId(), subject, dueAt: due });
    await expect(refused).rejects.toMatchObject({ code: 'CRM_REJECTED', details: { salesforceCode: code } });
    await expect(refused).rejects.toThrow(`Salesforce refused to create a Task on Contact`);
    expect(createsSeen).toBe(1);
    expect(tasks().size).toBe(before);
  });

  it.each([
    [
      'an opportunity the org does not have',
      'salesforce:Opportunity',
      () => newId('006', 9_999),
      'INVALID_CROSS_REFERENCE_KEY',
    ],
    [
      'a contact with a planted refusal',
      'salesforce:Contact',
      () => {
        const id = contact();
        state.faults.rejectRecords.set(id, { statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'No notes' });
        return id;
      },
      'FIELD_CUSTOM_VALIDATION_EXCEPTION',
    ],
  ] as const)(
    'refuses a note on %s in one call, leaving no note linked to nothing',
    async (_what, objectType, recordId, code) => {
      const before = { notes: notes().size, links: links().size };
      const refused = crm().createNote({ objectType, recordId: recordId(), body: 'x', timestamp: due });
      await expect(refused).rejects.toMatchObject({ code: 'CRM_REJECTED', details: { salesforceCode: code } });
      await expect(refused).rejects.toThrow('Salesforce refused to create a ContentNote on');
      expect(createsSeen).toBe(1);
      expect({ notes: notes().size, links: links().size }).toEqual(before);
    },
  );

  it.each(['status-503', 'drop'] as const)(
    'never sends a create again after an unclear failure (%s): it may have been made',
    async (failure) => {
      const id = contact();
      const adapter = crm();
      failCreates = failure;
      const failed = adapter.createNote({
        objectType: 'salesforce:Contact',
        recordId: id,
        body: 'Hello',
        timestamp: due,
      });
      await expect(failed).rejects.toMatchObject({ code: 'CRM_UNAVAILABLE', retryable: false });
      await expect(failed).rejects.toThrow('It may have been made, so it is not sent again.');
      expect(createsSeen).toBe(1);
    },
  );

  it('makes a task once after renewing an expired session (a 401 made nothing)', async () => {
    const id = contact();
    const adapter = crm();
    await adapter.createTask({ objectType: 'salesforce:Contact', recordId: id, subject: 'First', dueAt: due });
    for (const session of state.sessions.values()) session.expiresAt = 0;
    const before = tasks().size;
    await adapter.createTask({ objectType: 'salesforce:Contact', recordId: id, subject: 'Second', dueAt: due });
    expect(tasks().size).toBe(before + 1);
    expect(createsSeen).toBe(3);
  });
});
