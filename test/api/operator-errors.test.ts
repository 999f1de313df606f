import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOver } from '../support/cli.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

// Issue 18, point 12: errors that say what to do.
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness);
});
afterAll(() => harness.close());

/** fetch always sends a Content-Type with a body; node:http sends only the headers given. */
function post(pathname: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${harness.url}${pathname}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ws.agents[0]!.token}`,
          'content-length': Buffer.byteLength(body),
          ...headers,
        },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

describe('a body that is not declared as JSON', () => {
  const changeSet = '{"batchId":"b","objectType":"contacts","changes":[]}';

  it('without a Content-Type, answers 415 saying the header is missing and which one to send', async () => {
    const res = await post('/v1/changesets', changeSet, {});
    expect(res).toMatchObject({
      status: 415,
      body: {
        error: {
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message:
            'The body came without a Content-Type header: send it as JSON, with the header Content-Type: application/json.',
        },
      },
    });
  });

  it('as a form (what curl -d sends), answers 415 naming the type that came and why', async () => {
    const res = await post('/v1/changesets', changeSet, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
    expect(res.body.error.message).toBe(
      'The body came as application/x-www-form-urlencoded (curl -d sends that unless told otherwise): send it as JSON, with the header Content-Type: application/json.',
    );
  });
});

describe('a token on the wrong API', () => {
  it('a Canvas signed request to a server without the consumer secret is told the console inside Salesforce is off, and what turns it on', async () => {
    const res = await post(`/canvas/${ws.workspaceId}`, 'signed_request=abc.def', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: 'NOT_FOUND', details: { reason: 'canvas_off' } });
    expect(res.body.error.message).toContain('SALESFORCE_CANVAS_CONSUMER_SECRET');
  });

  it('an admin token on the agent API is told it is an admin token', async () => {
    const res = await api(harness, 'GET', '/v1/changesets/00000000-0000-4000-8000-000000000000', {
      token: ws.adminToken,
    });
    expect(res).toMatchObject({
      status: 401,
      body: {
        error: {
          code: 'UNAUTHENTICATED',
          message: expect.stringContaining('is an admin token; the agent API takes an agent token'),
          details: { tokenKind: 'admin' },
        },
      },
    });
  });

  it('an agent token on the admin API is told it is an agent token', async () => {
    const res = await api(harness, 'GET', '/v1/admin/agents', { token: ws.agents[0]!.token });
    expect(res).toMatchObject({
      status: 401,
      body: {
        error: {
          code: 'UNAUTHENTICATED',
          message: expect.stringContaining('is an agent token; the admin API takes the workspace’s admin token'),
          details: { tokenKind: 'agent' },
        },
      },
    });
  });

  it('a token that is neither still gets the plain answer', async () => {
    expect((await api(harness, 'GET', '/v1/admin/agents', { token: 'adm_nothing' })).body.error.message).toBe(
      'The bearer token is not a valid admin token.',
    );
  });
});

describe('CLI errors', () => {
  it('audit export --out into a folder that does not exist is VALIDATION_FAILED naming the folder, never INTERNAL', async () => {
    const folder = path.join(os.tmpdir(), `ag-missing-${process.pid}`, 'reports');
    const res = await cliOver(
      harness,
      'audit',
      'export',
      '--workspace',
      ws.workspaceId,
      '--out',
      path.join(folder, 'audit.csv'),
      '--format',
      'csv',
      '--json',
    );
    expect(res.code).toBe(1);
    expect(res.json.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: `--out: the folder ${folder} does not exist; create it first, or give a file in an existing folder.`,
    });
    expect(fs.existsSync(folder)).toBe(false);
  });

  it('sandbox edit with no sandbox listening says the sandbox runs inside the server in demo mode, or on its own', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const res = await cliOver(
      harness,
      'sandbox',
      'edit',
      '--object',
      'contacts',
      '--id',
      '1',
      '--property',
      'jobtitle',
      '--value',
      'x',
      '--sandbox-url',
      `http://127.0.0.1:${port}`,
      '--json',
    );
    expect(res.json.error).toMatchObject({
      code: 'CRM_UNAVAILABLE',
      message: expect.stringContaining('The sandbox runs inside the server in demo mode (npm start'),
    });
    expect(res.json.error.message).toContain('or on its own (npm run sandbox)');
  });
});
