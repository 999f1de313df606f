import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgFrameAncestors, verifyCanvasSignedRequest } from '../../server/src/crm/salesforce/canvas.ts';
import { type RunningSalesforceSandbox, startSalesforceSandbox } from '../../server/src/sandbox/salesforce/start.ts';
import { givePeopleRoles } from '../support/approvals.ts';
import { type Harness, seedWorkspace, startHarness } from '../support/harness.ts';
import { hubspotOrSalesforce, workspaceOfBothCrms } from '../support/salesforce.ts';

/** The console opened inside Salesforce as a Canvas app (issue 20, point 6). */

const SECRET = 'canvas-consumer-secret';
const REP = '005000000000001AAA';
const STRANGER = '005000000000002AAA';

/** Each person's live access token in the local Salesforce, as Salesforce hands the Canvas app one. */
const liveTokens = new Map<string, string>();
/** `userId`'s token, in its 15- or 18-character form. */
const tokenOf = (userId: string) => [...liveTokens].find(([id]) => id.startsWith(userId))?.[1];

/** A person of the local Salesforce signed in to the app: their access token. */
async function signIn(userId: string): Promise<string> {
  const response = await fetch(`${sandbox.url}/_sandbox/sessions`, {
    method: 'POST',
    body: JSON.stringify({ userId }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

function signedRequest(
  userId: string,
  secret = SECRET,
  instanceUrl = 'https://acme.my.salesforce.com',
  organizationId = sandbox.orgId,
  issuedAt: number | null = null,
  oauthToken: string | undefined = tokenOf(userId),
): string {
  const envelope = {
    algorithm: 'HMACSHA256',
    issuedAt,
    userId,
    client: { instanceUrl, oauthToken, targetOrigin: instanceUrl },
    context: {
      user: { userId, userName: 'rep@acme.example', email: 'rep@acme.example' },
      organization: { organizationId },
      environment: { parameters: { recordId: '003000000000001AAA' } },
    },
  };
  const encoded = Buffer.from(JSON.stringify(envelope)).toString('base64');
  return `${createHmac('sha256', secret).update(encoded).digest('base64')}.${encoded}`;
}

let sandbox: RunningSalesforceSandbox;
let harness: Harness;
let consoleDir: string;
let workspaceId: string;

beforeAll(async () => {
  consoleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'canvas-console-'));
  fs.writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html><title>console</title>');
  sandbox = await startSalesforceSandbox({ port: 0, seed: false });
  harness = await startHarness({
    consoleDir,
    canvas: { consumerSecrets: [SECRET], check: verifyCanvasSignedRequest },
    hubspotOverHttp: true,
    crmFor: hubspotOrSalesforce,
  });
  // Connected to the local Salesforce's org: the one the signed requests come from unless a test says otherwise.
  workspaceId = (await workspaceOfBothCrms(harness, sandbox.url, '4310')).id;
  await givePeopleRoles(harness, workspaceId, { [REP]: 'rep' });
  for (const userId of [REP, STRANGER]) liveTokens.set(userId, await signIn(userId));
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await sandbox?.close();
  fs.rmSync(consoleDir, { recursive: true, force: true });
});

const post = (body: string, workspace = workspaceId, headers: Record<string, string> = {}) =>
  fetch(`${harness.url}/canvas/${workspace}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
const form = (signed: string) => new URLSearchParams({ signed_request: signed }).toString();

describe('Canvas signed requests', () => {
  it('opens the console for a person with a role, framed only by the org’s own domains', async () => {
    const response = await post(form(signedRequest(REP)));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>console</title>');
    // The org's domains come from the address the workspace stored (here the local Salesforce's),
    // never from the instance URL the request names (acme.my.salesforce.com).
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy.split('; ').find((directive) => directive.startsWith('frame-ancestors'))).toBe(
      `frame-ancestors ${new URL(sandbox.url).origin}`,
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

  it('answers 401 and nothing else to a correctly signed envelope that names its user twice', async () => {
    const encoded = signedRequest(REP).split('.')[1]!;
    const envelope = Buffer.from(encoded, 'base64').toString('utf8');
    // The stranger to a reader of the first key, the rep (who has a role, and whose token it carries) to one of the last.
    const twice = envelope.replace(`"user":{"userId":"${REP}"`, `"user":{"userId":"${STRANGER}","userId":"${REP}"`);
    expect(twice).not.toBe(envelope);
    const reEncoded = Buffer.from(twice).toString('base64');
    const signed = `${createHmac('sha256', SECRET).update(reEncoded).digest('base64')}.${reEncoded}`;
    const response = await post(form(signed));
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

  it('takes the envelope as Salesforce documents it, issuedAt null', async () => {
    const response = await post(form(signedRequest(REP, SECRET, undefined, undefined, null)));
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toMatch(/HttpOnly/);
  });

  it('answers a form of more fields than it reads with 413 and a sentence, not a failure of ours', async () => {
    const fields = Array.from({ length: 1_001 }, (_, i) => `field${i}=x`).join('&');
    const response = await post(`${form(signedRequest(REP))}&${fields}`);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      error: { code: 'BODY_TOO_LARGE', message: expect.stringContaining('form') },
    });
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('answers a form in a charset other than UTF-8 with a sentence about the form, not about JSON', async () => {
    const response = await fetch(`${harness.url}/canvas/${workspaceId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=latin9' },
      body: form(signedRequest(REP)),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', message: 'The request body must be UTF-8.' },
    });
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a verified Salesforce user who has no role in the workspace', async () => {
    const response = await post(form(signedRequest(STRANGER)));
    expect(response.status).toBe(403);
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a person with a role when the request comes from an org the workspace is not connected to', async () => {
    // Signed with the app's own secret, as every org the app is installed in signs its requests.
    const response = await post(
      form(signedRequest(REP, SECRET, 'https://other.my.salesforce.com', '00D000000000009EAA')),
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { details: { reason: 'account_not_connected' } } });
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('answers another workspace’s id exactly as an unknown one: no one signed in elsewhere learns which ids exist', async () => {
    const other = await seedWorkspace(harness);
    await givePeopleRoles(harness, other.workspaceId, { [REP]: 'owner' });
    const refusal = async (workspace: string) => {
      const response = await post(form(signedRequest(REP)), workspace);
      expect(response.headers.get('set-cookie')).toBeNull();
      const { error } = (await response.json()) as { error: { requestId: string } };
      const { requestId: _requestId, ...rest } = error;
      return { status: response.status, error: rest };
    };
    const theirs = await refusal(other.workspaceId);
    expect(theirs).toMatchObject({
      status: 403,
      error: { code: 'FORBIDDEN', details: { reason: 'account_not_connected' } },
    });
    expect(await refusal('0193d0a4-0000-7000-8000-000000000000')).toEqual(theirs);
  });

  it('takes the person’s user id in its 15-character form too, as people stores it in 18', async () => {
    const response = await post(form(signedRequest(REP.slice(0, 15))));
    expect(response.status).toBe(200);
    const cookie = response.headers.get('set-cookie') ?? '';
    const session = await fetch(`${harness.url}/console/api/session`, {
      headers: { cookie: cookie.split(';')[0] ?? '' },
    });
    expect(await session.json()).toMatchObject({ caller: { userId: REP } });
  });

  it('takes the connected org’s id in its 15-character form too', async () => {
    const response = await post(form(signedRequest(REP, SECRET, undefined, sandbox.orgId.slice(0, 15))));
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toMatch(/HttpOnly/);
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

describe('a Canvas signed request cannot be replayed or planted', () => {
  const cookieOf = (response: Response) => response.headers.get('set-cookie');
  const errorOf = async (response: Response) => ((await response.json()) as { error: Record<string, unknown> }).error;
  const revoke = async (token: string) => {
    const response = await fetch(`${sandbox.url}/services/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(response.status).toBe(200);
  };
  /** A host that answers every call as Salesforce's UserInfo would for the rep, and records what it was sent. */
  async function recordingHost() {
    const calls: { url: string; authorization: string | undefined }[] = [];
    const server = createServer((req, res) => {
      calls.push({ url: req.url ?? '', authorization: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ user_id: REP, organization_id: sandbox.orgId }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      calls,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it('opens the console while the person’s token is live, and refuses the same request replayed once it is revoked', async () => {
    const token = await signIn(REP);
    const signed = signedRequest(REP, SECRET, undefined, undefined, null, token);
    const fresh = await post(form(signed));
    expect(fresh.status).toBe(200);
    expect(cookieOf(fresh)).toMatch(/HttpOnly/);

    await revoke(token);
    const replayed = await post(form(signed));
    expect(replayed.status).toBe(401);
    expect(cookieOf(replayed)).toBeNull();
    const error = await errorOf(replayed);
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', details: { reason: 'crm_token_refused' } });
    expect(error.message).toMatch(/no longer accepts the access token/);
    expect(JSON.stringify(error)).not.toContain(token);
  });

  it('refuses a request whose token has expired', async () => {
    const token = await signIn(REP);
    const session = sandbox.state.sessions.get(token);
    if (session) session.expiresAt = 0;
    const response = await post(form(signedRequest(REP, SECRET, undefined, undefined, null, token)));
    expect(response.status).toBe(401);
    expect(cookieOf(response)).toBeNull();
    expect(await errorOf(response)).toMatchObject({ details: { reason: 'crm_token_refused' } });
  });

  it('refuses a request carrying someone else’s live token', async () => {
    const response = await post(form(signedRequest(REP, SECRET, undefined, undefined, null, tokenOf(STRANGER))));
    expect(response.status).toBe(401);
    expect(cookieOf(response)).toBeNull();
    expect(await errorOf(response)).toMatchObject({
      code: 'UNAUTHENTICATED',
      details: { reason: 'crm_token_mismatch' },
    });
  });

  it('refuses a request that carries no token', async () => {
    const envelope = signedRequest(REP, SECRET, undefined, undefined, null, '');
    const response = await post(form(envelope));
    expect(response.status).toBe(401);
    expect(cookieOf(response)).toBeNull();
    expect(await errorOf(response)).toMatchObject({ details: { reason: 'crm_token_missing' } });
  });

  it('sends the token only to the org’s stored address, never to the instance URL a request names', async () => {
    const host = await recordingHost();
    try {
      // A live token: the org confirms it, and the named host is never asked.
      const live = await post(form(signedRequest(REP, SECRET, host.url)));
      expect(live.status).toBe(200);
      // A revoked token: the named host would vouch for it, but it is never asked either.
      const token = await signIn(REP);
      await revoke(token);
      const dead = await post(form(signedRequest(REP, SECRET, host.url, undefined, null, token)));
      expect(dead.status).toBe(401);
      expect(cookieOf(dead)).toBeNull();
      expect(host.calls).toEqual([]);
    } finally {
      await host.close();
    }
  });

  it('answers 503 and opens nothing while Salesforce cannot confirm the token', async () => {
    const faults = (identityDown: boolean) =>
      fetch(`${sandbox.url}/_sandbox/faults`, { method: 'PUT', body: JSON.stringify({ identityDown }) });
    await faults(true);
    try {
      const response = await post(form(signedRequest(REP)));
      expect(response.status).toBe(503);
      expect(cookieOf(response)).toBeNull();
      const error = await errorOf(response);
      expect(error).toMatchObject({ code: 'CRM_UNAVAILABLE' });
      expect(error.message).toMatch(/could not confirm/);
    } finally {
      await faults(false);
    }
  });

  it('refuses a browser’s post from another site, and takes one from the org’s own pages', async () => {
    for (const origin of ['https://evil.example', 'https://acme.lightning.force.com', 'null']) {
      // acme is only the instance URL the request names; the workspace's org is the local Salesforce.
      const response = await post(form(signedRequest(REP)), workspaceId, { origin, 'sec-fetch-site': 'cross-site' });
      expect(response.status).toBe(403);
      expect(cookieOf(response)).toBeNull();
      const error = await errorOf(response);
      expect(error).toMatchObject({ code: 'FORBIDDEN', details: { reason: 'origin_not_allowed' } });
      expect(error.message).toContain(new URL(sandbox.url).origin);
    }
    const own = await post(form(signedRequest(REP)), workspaceId, {
      origin: new URL(sandbox.url).origin,
      'sec-fetch-site': 'cross-site',
    });
    expect(own.status).toBe(200);
    expect(cookieOf(own)).toMatch(/HttpOnly/);
  });

  it('refuses a browser that says its post is cross-site but withholds its origin', async () => {
    const response = await post(form(signedRequest(REP)), workspaceId, { 'sec-fetch-site': 'cross-site' });
    expect(response.status).toBe(403);
    expect(cookieOf(response)).toBeNull();
    expect(await errorOf(response)).toMatchObject({ details: { reason: 'origin_withheld' } });
  });

  it('refuses a stale issue time when a request names one, and takes a recent one in seconds or milliseconds', async () => {
    const stale = await post(form(signedRequest(REP, SECRET, undefined, undefined, 1)));
    expect(stale.status).toBe(401);
    expect(cookieOf(stale)).toBeNull();
    expect(await errorOf(stale)).toMatchObject({
      code: 'UNAUTHENTICATED',
      details: { reason: 'signed_request_stale' },
    });
    const hourAgo = Date.now() - 60 * 60_000;
    expect((await post(form(signedRequest(REP, SECRET, undefined, undefined, hourAgo)))).status).toBe(401);
    for (const issuedAt of [Math.floor(Date.now() / 1000), Date.now()])
      expect((await post(form(signedRequest(REP, SECRET, undefined, undefined, issuedAt)))).status).toBe(200);
  });
});
