import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgFrameAncestors, verifyCanvasSignedRequest } from '../../server/src/crm/salesforce/canvas.ts';
import { givePeopleRoles } from '../support/approvals.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { seedWebhookWorkspace } from '../support/webhooks.ts';

/** The console opened inside Salesforce as a Canvas app (issue 20, point 6). */

const SECRET = 'canvas-consumer-secret';
const REP = '005000000000001AAA';
const STRANGER = '005000000000002AAA';

function signedRequest(userId: string, secret = SECRET, instanceUrl = 'https://acme.my.salesforce.com'): string {
  const envelope = {
    algorithm: 'HMACSHA256',
    issuedAt: 1,
    userId,
    client: { instanceUrl, oauthToken: '00Dxx!token', targetOrigin: instanceUrl },
    context: {
      user: { userId, userName: 'rep@acme.example', email: 'rep@acme.example' },
      organization: { organizationId: '00D000000000001EAA' },
      environment: { parameters: { recordId: '003000000000001AAA' } },
    },
  };
  const encoded = Buffer.from(JSON.stringify(envelope)).toString('base64');
  return `${createHmac('sha256', secret).update(encoded).digest('base64')}.${encoded}`;
}

let harness: Harness;
let consoleDir: string;
let workspaceId: string;

beforeAll(async () => {
  consoleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'canvas-console-'));
  fs.writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html><title>console</title>');
  harness = await startHarness({ consoleDir, canvas: { consumerSecrets: [SECRET], check: verifyCanvasSignedRequest } });
  workspaceId = (await seedWebhookWorkspace(harness)).workspaceId;
  await givePeopleRoles(harness, workspaceId, { [REP]: 'rep' });
});
afterAll(async () => {
  await harness.close();
  fs.rmSync(consoleDir, { recursive: true, force: true });
});

const post = (body: string, workspace = workspaceId) =>
  fetch(`${harness.url}/canvas/${workspace}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
const form = (signed: string) => new URLSearchParams({ signed_request: signed }).toString();

describe('Canvas signed requests', () => {
  it('opens the console for a person with a role, framed only by the org’s own domains', async () => {
    const response = await post(form(signedRequest(REP)));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>console</title>');
    expect(response.headers.get('content-security-policy')).toContain(
      'frame-ancestors https://acme.my.salesforce.com https://acme.lightning.force.com https://acme--c.vf.force.com',
    );
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/SameSite=None/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/Partitioned/);
    expect(cookie).toMatch(/HttpOnly/);
    const session = await fetch(`${harness.url}/console/api/session`, {
      headers: { cookie: cookie.split(';')[0] ?? '' },
    });
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ workspace: { id: workspaceId }, caller: { userId: REP } });
  });

  it('answers 401 and nothing else to an altered body', async () => {
    const [signature, encoded] = signedRequest(STRANGER).split('.');
    // The rep's identity in the envelope, the stranger's signature: the bytes signed are not these.
    const altered = `${signature}.${signedRequest(REP).split('.')[1]}`;
    expect(encoded).not.toBe(altered.split('.')[1]);
    const response = await post(form(altered));
    expect(response.status).toBe(401);
    expect(await response.text()).toBe('');
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('answers 401 and nothing else to a request signed with another secret, or none', async () => {
    for (const body of [form(signedRequest(REP, 'another-secret')), form('no-dot-here'), 'nothing=here', '']) {
      const response = await post(body);
      expect(response.status).toBe(401);
      expect(await response.text()).toBe('');
      expect(response.headers.get('set-cookie')).toBeNull();
    }
  });

  it('refuses a verified Salesforce user who has no role in the workspace', async () => {
    const response = await post(form(signedRequest(STRANGER)));
    expect(response.status).toBe(403);
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('derives the frame ancestors of sandboxes and allows only itself for anything else', () => {
    expect(orgFrameAncestors('https://acme--uat.sandbox.my.salesforce.com')).toEqual([
      'https://acme--uat.sandbox.my.salesforce.com',
      'https://acme--uat.sandbox.lightning.force.com',
      'https://acme--uat--c.sandbox.vf.force.com',
    ]);
    expect(orgFrameAncestors('http://127.0.0.1:8787')).toEqual(['http://127.0.0.1:8787']);
  });
});
