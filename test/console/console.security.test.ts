import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueSignInLink } from '../../server/src/services/console/index.ts';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { approvals, consoleSessions, consoleSignInLinks } from '../../server/src/store/schema.ts';
import { givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { consoleCall, pressSignIn, sessionCookieOf, signInAs } from '../support/console.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { seedContacts, submitTitles } from '../support/rollbacks.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let now: Date;

/** A stand-in for console/dist, so serving is tested without building the app. */
function fakeConsoleBuild(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'console-dist-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/app.js"></script>');
  writeFileSync(path.join(dir, 'assets', 'app.js'), 'export {};');
  return dir;
}

beforeEach(async () => {
  now = new Date('2026-12-01T09:00:00Z');
  harness = await startHarness({ clock: () => now, consoleDir: fakeConsoleBuild() });
  ws = await seedWorkspace(harness);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '1001': 'rep', '700': 'auditor' });
});
afterEach(() => harness.close());

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

const openLink = (token: string, headers: Record<string, string> = {}) =>
  fetch(`${harness.url}/sign-in?token=${token}`, { redirect: 'manual', headers });

/** Opens the link, then presses its button with the browser's cookie, as a person does. */
const signInWith = async (token: string, extra: { next?: string; cookie?: string } = {}) => {
  const query = extra.next === undefined ? '' : `&next=${encodeURIComponent(extra.next)}`;
  expect((await fetch(`${harness.url}/sign-in?token=${token}${query}`)).status).toBe(200);
  return pressSignIn(
    harness,
    { token, ...(extra.next === undefined ? {} : { next: extra.next }) },
    { origin: harness.url, 'sec-fetch-site': 'same-origin', ...(extra.cookie ? { cookie: extra.cookie } : {}) },
  );
};

const linkRow = async () => (await harness.database.db.select().from(consoleSignInLinks))[0]!;

describe('sign-in links', () => {
  it('When a link is opened, then it shows who it signs in and a button, and spends nothing and sets no cookie', async () => {
    const link = await issueSignInLink(harness.deps, { workspaceId: ws.workspaceId, crmUserId: '501' });
    // A person's browser, a link preview or mail scanner, another site's <img>: all only GET it.
    for (const accept of [BROWSER_ACCEPT, '*/*', 'image/avif,image/webp,image/*,*/*;q=0.8']) {
      const opened = await openLink(link.token, { accept });
      expect(opened.status, accept).toBe(200);
      expect(opened.headers.getSetCookie(), accept).toEqual([]);
      expect(opened.headers.get('content-type')).toMatch(/^text\/html/);
      expect(opened.headers.get('content-security-policy')).toContain("form-action 'self'");
      expect(opened.headers.get('cache-control')).toBe('no-store');
      const page = await opened.text();
      expect(page).toContain('<form method="post" action="/sign-in">');
      expect(page).toContain(`<input type="hidden" name="token" value="${link.token}">`);
      expect(page).toContain('<button type="submit">Sign in</button>');
      expect(page).toMatch(/as CRM user <strong>501<\/strong>/);
      expect(page).not.toMatch(/<script|style=/);
    }
    expect((await linkRow()).usedAt).toBeNull();
    expect(await harness.database.db.select().from(consoleSessions)).toEqual([]);
    // Still unspent: the person's own press signs them in.
    expect((await pressSignIn(harness, { token: link.token })).status).toBe(303);
  });

  it('When the button is pressed, then it sets an HttpOnly, SameSite=Strict session cookie, stores only hashes, and works once', async () => {
    const link = await issueSignInLink(harness.deps, { workspaceId: ws.workspaceId, crmUserId: '501' });
    const first = await signInWith(link.token);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/inbox');
    expect(first.headers.get('referrer-policy')).toBe('no-referrer');
    const setCookie = first.headers.getSetCookie().join('\n');
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toMatch(/Secure/); // loopback HTTP; anywhere else the cookie is Secure
    const cookie = sessionCookieOf(first)!;
    const session = await consoleCall(harness, cookie, 'GET', '/console/api/session');
    expect(session.status).toBe(200);
    const body = await session.json();
    expect(body).toMatchObject({
      workspace: { id: ws.workspaceId },
      caller: { userId: '501', permissions: { role: 'approver' } },
    });
    expect(JSON.stringify(body)).not.toContain(ws.adminToken);

    const storedLink = await linkRow();
    const [storedSession] = await harness.database.db.select().from(consoleSessions);
    expect(storedLink.tokenHash).not.toContain(link.token);
    expect(cookie).not.toContain(storedSession!.tokenHash);

    const again = await pressSignIn(harness, { token: link.token });
    expect(again.status).toBe(401);
    expect(((await again.json()) as any).error.details.reason).toBe('sign_in_link_invalid');
    expect(sessionCookieOf(again)).toBeUndefined();
    expect((await openLink(link.token)).status).toBe(401);
  });

  it('When the button is pressed twice at once, then one press signs in and the other is refused', async () => {
    const link = await issueSignInLink(harness.deps, { workspaceId: ws.workspaceId, crmUserId: '501' });
    const presses = await Promise.all([
      pressSignIn(harness, { token: link.token }),
      pressSignIn(harness, { token: link.token }),
    ]);
    expect(presses.map((press) => press.status).toSorted()).toEqual([303, 401]);
    expect(await harness.database.db.select().from(consoleSessions)).toHaveLength(1);
  });

  it('When the sign-in form is posted from another site, then nobody is signed in and the link stays unspent', async () => {
    const link = await issueSignInLink(harness.deps, { workspaceId: ws.workspaceId, crmUserId: '501' });
    const crossSite: Record<string, string>[] = [
      { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      { origin: 'http://evil.example' },
      { origin: 'null' }, // a sandboxed frame's form
      {},
      { origin: harness.url, 'sec-fetch-site': 'cross-site' },
      { origin: harness.url, 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of crossSite) {
      const refused = await pressSignIn(harness, { token: link.token }, headers);
      const what = JSON.stringify(headers);
      expect(refused.status, what).toBe(403);
      expect(((await refused.json()) as any).error.details.reason, what).toBe('cross_site_request');
      expect(sessionCookieOf(refused), what).toBeUndefined();
    }
    // The victim's browser, sent there by another site's form, gets a page saying why.
    const page = await pressSignIn(
      harness,
      { token: link.token },
      { origin: 'http://evil.example', accept: BROWSER_ACCEPT },
    );
    expect(page.status).toBe(403);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('This sign-in was sent from another site, so nobody was signed in');
    expect(sessionCookieOf(page)).toBeUndefined();
    expect((await linkRow()).usedAt).toBeNull();
    expect(await harness.database.db.select().from(consoleSessions)).toEqual([]);
  });

  it('When a link is opened after 15 minutes, then it is refused', async () => {
    const link = await issueSignInLink(harness.deps, { workspaceId: ws.workspaceId, crmUserId: '501' });
    now = new Date(now.getTime() + 15 * 60_000 + 1);
    expect((await openLink(link.token)).status).toBe(401);
    expect((await pressSignIn(harness, { token: link.token })).status).toBe(401);
  });

  it('When a session expires or the person signs out, then the cookie no longer works', async () => {
    const cookie = await signInAs(harness, ws.workspaceId, '501');
    expect((await consoleCall(harness, cookie, 'POST', '/console/api/sign-out')).status).toBe(204);
    expect((await consoleCall(harness, cookie, 'GET', '/console/api/session')).status).toBe(401);
    const later = await signInAs(harness, ws.workspaceId, '501');
    now = new Date(now.getTime() + 8 * 3_600_000 + 1);
    expect((await consoleCall(harness, later, 'GET', '/console/api/session')).status).toBe(401);
  });

  it('When the browser already holds a session id (planted or its own), then signing in issues a new one and ends the old', async () => {
    const own = await signInAs(harness, ws.workspaceId, '1001');
    const link = await issueSignInLink(harness.deps, { workspaceId: ws.workspaceId, crmUserId: '501' });
    const response = await signInWith(link.token, { cookie: own });
    const fresh = sessionCookieOf(response)!;
    expect(fresh).not.toBe(own);
    expect((await consoleCall(harness, own, 'GET', '/console/api/session')).status).toBe(401);

    const planted = 'ag_console_session=ses_chosen-by-an-attacker';
    const other = await issueSignInLink(harness.deps, { workspaceId: ws.workspaceId, crmUserId: '501' });
    expect(sessionCookieOf(await signInWith(other.token, { cookie: planted }))).not.toBe(planted);
    expect((await consoleCall(harness, planted, 'GET', '/console/api/session')).status).toBe(401);
  });

  it('When the browser holds a session cookie that does not decode, then the link still signs the person in', async () => {
    const link = await issueSignInLink(harness.deps, { workspaceId: ws.workspaceId, crmUserId: '501' });
    const response = await signInWith(link.token, { cookie: 'ag_console_session=%E0%A4%A' });
    expect(response.status).toBe(303);
    const cookie = sessionCookieOf(response)!;
    expect((await consoleCall(harness, cookie, 'GET', '/console/api/session')).status).toBe(200);
    const stale = await fetch(`${harness.url}/console/api/session`, {
      headers: { cookie: 'ag_console_session=%ED%A0%80' },
    });
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as any).error.details.reason).toBe('session_missing');
  });

  it('When a person opens a spent or broken link in a browser, then a page says why in a sentence, not the API’s JSON', async () => {
    const link = await issueSignInLink(harness.deps, { workspaceId: ws.workspaceId, crmUserId: '501' });
    expect((await signInWith(link.token)).status).toBe(303);
    for (const query of [`?token=${link.token}`, '', '?token=<b>x</b>&token=y']) {
      const response = await fetch(`${harness.url}/sign-in${query}`, {
        redirect: 'manual',
        headers: { accept: BROWSER_ACCEPT },
      });
      expect(response.status, query).toBe(query === `?token=${link.token}` ? 401 : 400);
      expect(response.headers.get('content-type'), query).toMatch(/^text\/html/);
      expect(response.headers.get('content-security-policy'), query).toContain("script-src 'self'");
      expect(response.headers.get('referrer-policy'), query).toBe('no-referrer');
      const page = await response.text();
      expect(page, query).toContain('Ask an admin for a new one');
      expect(page, query).not.toMatch(/<b>|"error"|VALIDATION_FAILED|UNAUTHENTICATED|<form/);
      expect(sessionCookieOf(response), query).toBeUndefined();
    }
    const spent = await fetch(`${harness.url}/sign-in?token=${link.token}`, {
      redirect: 'manual',
      headers: { accept: BROWSER_ACCEPT },
    });
    expect(await spent.text()).toContain('This sign-in link was already used, has expired or was never issued');
    const cut = await fetch(`${harness.url}/sign-in?tok`, { redirect: 'manual', headers: { accept: BROWSER_ACCEPT } });
    expect(await cut.text()).toContain('This sign-in link is incomplete or damaged');
    // The button pressed again (the page kept open in another tab): the same page, not JSON.
    const pressedAgain = await pressSignIn(
      harness,
      { token: link.token },
      { origin: harness.url, 'sec-fetch-site': 'same-origin', accept: BROWSER_ACCEPT },
    );
    expect(pressedAgain.status).toBe(401);
    expect(await pressedAgain.text()).toContain('This sign-in link was already used');
  });

  it('When `next` points anywhere but a path of this server, then sign-in lands on the inbox', async () => {
    for (const next of [
      '//evil.example/x',
      'https://evil.example',
      '/\\evil.example',
      'javascript:alert(1)',
      '/%2F%2Fevil.example',
      // Dot segments and a tab the URL parser drops made `//evil.example` out of a path.
      '/..//evil.example',
      '/.//evil.example/x',
      '/%2e%2e//evil.example',
      '/inbox/..//evil.example',
      '/x/../\t/evil.example',
    ]) {
      const link = await issueSignInLink(harness.deps, { workspaceId: ws.workspaceId, crmUserId: '501' });
      const location = (await signInWith(link.token, { next })).headers.get('location');
      expect(location === '/inbox' || location?.startsWith('/%2F'), `${next} → ${location}`).toBe(true);
    }
    const link = await issueSignInLink(harness.deps, { workspaceId: ws.workspaceId, crmUserId: '501' });
    const page = await (
      await openLink(`${link.token}&next=${encodeURIComponent('/batches/enrich-1?x=1&y="2"')}`)
    ).text();
    expect(page).toContain('<input type="hidden" name="next" value="/batches/enrich-1?x=1&amp;y=&quot;2&quot;">');
    expect((await signInWith(link.token, { next: '/batches/enrich-1?x=1' })).headers.get('location')).toBe(
      '/batches/enrich-1?x=1',
    );
  });
});

describe('behind a proxy, with PUBLIC_URL', () => {
  const PUBLIC = 'https://console.example.test';

  it('When PUBLIC_URL is https, then the session cookie is Secure and its origin is this server’s, whatever Host the proxy sends', async () => {
    await harness.close();
    harness = await startHarness({ clock: () => now, webhooks: { publicUrl: `${PUBLIC}/` } });
    ws = await seedWorkspace(harness);
    await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
    // The proxy passed Host 127.0.0.1:port on; the browser's Origin is the public one.
    const link = await issueSignInLink(harness.deps, { workspaceId: ws.workspaceId, crmUserId: '501' });
    const signedIn = await pressSignIn(
      harness,
      { token: link.token },
      { origin: PUBLIC, 'sec-fetch-site': 'same-origin' },
    );
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.getSetCookie().join('\n')).toMatch(/; Secure/);
    const cookie = sessionCookieOf(signedIn)!;
    const signOut = (origin: string) =>
      fetch(`${harness.url}/console/api/sign-out`, {
        method: 'POST',
        headers: { cookie, 'x-console-request': '1', origin },
      });
    expect((await signOut('https://elsewhere.example')).status).toBe(403);
    expect((await signOut('http://console.example.test')).status).toBe(403); // not the public scheme
    const out = await signOut(PUBLIC);
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().join('\n')).toMatch(/; Secure/);
    // Opened on the server's own address (on the machine, past the proxy), it still works.
    const direct = await issueSignInLink(harness.deps, { workspaceId: ws.workspaceId, crmUserId: '501' });
    expect((await pressSignIn(harness, { token: direct.token })).status).toBe(303);
    // A link the admin API hands out names the public address, not the Host the proxy sent.
    const handedOut = await api(harness, 'POST', '/v1/admin/console-links', {
      token: ws.adminToken,
      body: { crmUserId: '501' },
    });
    expect(handedOut.status).toBe(201);
    expect(handedOut.body.url).toMatch(new RegExp(`^${PUBLIC}/sign-in\\?token=`));
  });
});

describe('links from the admin API and the audit pages', () => {
  it('When an admin asks the server for a link, then it signs that person in once; without the admin token it is refused', async () => {
    expect((await api(harness, 'POST', '/v1/admin/console-links', { body: { crmUserId: '700' } })).status).toBe(401);
    const created = await api(harness, 'POST', '/v1/admin/console-links', {
      token: ws.adminToken,
      body: { crmUserId: '700' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ crmUserId: '700', role: 'auditor' });
    const url = new URL(created.body.url);
    expect(`${url.protocol}//${url.host}`).toBe(harness.url);
    expect(url.pathname).toBe('/sign-in');
    expect((await fetch(url)).status).toBe(200);
    const cookie = sessionCookieOf(await pressSignIn(harness, { token: url.searchParams.get('token')! }))!;

    const found = (await (await consoleCall(harness, cookie, 'GET', '/console/api/audit?limit=200')).json()) as any;
    const published = found.events.find((event: { type: string }) => event.type === 'policy.published');
    const action = await consoleCall(harness, cookie, 'GET', `/console/api/audit/events/${published.seq}`);
    expect(action.status).toBe(200);
    expect(((await action.json()) as any).event).toMatchObject({ seq: published.seq, type: 'policy.published' });
    expect((await consoleCall(harness, cookie, 'GET', '/console/api/audit/events/999999')).status).toBe(404);
    expect((await consoleCall(harness, cookie, 'GET', '/console/api/audit/events/abc')).status).toBe(400);
    const verified = await consoleCall(harness, cookie, 'GET', '/console/api/audit/verify');
    expect(((await verified.json()) as any).ok).toBe(true);

    const rep = await signInAs(harness, ws.workspaceId, '1001');
    expect((await consoleCall(harness, rep, 'GET', `/console/api/audit/events/${published.seq}`)).status).toBe(403);
    expect((await consoleCall(harness, rep, 'GET', '/console/api/audit/verify')).status).toBe(403);
  });
});

describe('requests that change something', () => {
  it('When a decision comes without the console header or from another origin, then it is refused and nothing is decided', async () => {
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId: seedContact(harness, { phone: '+1 555 0100' }),
      properties: { phone: '+1 555 0199' },
    });
    const cookie = await signInAs(harness, ws.workspaceId, '501');
    const path = `/console/api/approvals/${approvalId}/decisions`;
    const attempts = [
      { cookie, 'content-type': 'application/json', origin: harness.url },
      { cookie, 'content-type': 'application/json', 'x-console-request': '1', origin: 'http://evil.example' },
      { cookie, 'content-type': 'application/json', 'x-console-request': '1' },
    ];
    for (const headers of attempts) {
      const refused = await fetch(`${harness.url}${path}`, { method: 'POST', headers, body: '{"kind":"approve"}' });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as any).error.details.reason).toBe('cross_site_request');
    }
    const [stored] = await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId));
    expect(stored!.status).toBe('pending');

    const allowed = await consoleCall(harness, cookie, 'POST', path, { kind: 'reject', reason: 'Not this one' });
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as any).status).toBe('rejected');
  });

  it('When a role may not do something, then the server refuses it whatever the page shows', async () => {
    const rep = await signInAs(harness, ws.workspaceId, '1001');
    const rollback = await consoleCall(harness, rep, 'POST', '/console/api/rollbacks', {
      selector: { batchId: 'enrich-1' },
      dryRun: true,
    });
    expect(rollback.status).toBe(403);
    expect((await consoleCall(harness, rep, 'GET', '/console/api/batches')).status).toBe(403);
    expect((await consoleCall(harness, rep, 'GET', '/console/api/audit')).status).toBe(403);

    const approvalId = await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId: seedContact(harness, { phone: '+1 555 0100' }),
      properties: { phone: '+1 555 0199' },
    });
    const auditor = await signInAs(harness, ws.workspaceId, '700');
    const decision = await consoleCall(harness, auditor, 'POST', `/console/api/approvals/${approvalId}/decisions`, {
      kind: 'approve',
    });
    expect(decision.status).toBe(403);
    expect((await consoleCall(harness, auditor, 'GET', '/console/api/audit')).status).toBe(200);
  });

  it('When a person following a rollback loses the role that lets them, then its event stream ends within seconds', async () => {
    const [recordId] = seedContacts(harness, ['Engineer']);
    await submitTitles(harness, ws.agents[0]!.token, 'enrich-7', { [recordId!]: 'CTO' });
    const approver = await signInAs(harness, ws.workspaceId, '501');
    // No rollback worker runs here: the rollback stays running, as a long one does.
    const started = await consoleCall(harness, approver, 'POST', '/console/api/rollbacks', {
      selector: { batchId: 'enrich-7' },
    });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    const controller = new AbortController();
    const stream = await fetch(`${harness.url}/console/api/rollbacks/${id}/events`, {
      headers: { cookie: approver },
      signal: controller.signal,
    });
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).value).toContain('event: progress');

    await givePeopleRoles(harness, ws.workspaceId, { '501': 'rep' });
    const deadline = setTimeout(() => controller.abort(), 8_000);
    let ended = false;
    try {
      while (!(await reader.read()).done);
      ended = true;
    } catch {
      // Aborted at the deadline: the stream was still open.
    } finally {
      clearTimeout(deadline);
    }
    expect(ended).toBe(true);
  }, 15_000);

  it('When a console call has no session, then it is a 401 with a sentence', async () => {
    const response = await fetch(`${harness.url}/console/api/inbox`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as any).error.code).toBe('UNAUTHENTICATED');
  });
});

describe('serving the console', () => {
  it('When the console or a deep link is loaded, then it comes with a strict CSP, frame-ancestors none and nosniff', async () => {
    for (const page of [
      '/',
      '/inbox',
      '/batches/enrich-1',
      '/audit',
      '/records/contacts/42',
      '/settings/versions',
      '/overview',
    ]) {
      const response = await fetch(`${harness.url}${page}`);
      expect(response.status, page).toBe(200);
      expect(await response.text()).toContain('/assets/app.js');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const script = await fetch(`${harness.url}/assets/app.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('When a path is not the console’s, then the API keeps its JSON 404', async () => {
    for (const missing of ['/v1/nothing-here', '/console/api/nothing-here', '/assets/missing.js', '/inbox.php']) {
      const response = await fetch(`${harness.url}${missing}`);
      expect(response.status, missing).toBe(404);
      expect(((await response.json()) as any).error.code).toBe('NOT_FOUND');
    }
  });
});
