import { expect } from 'vitest';
import { issueSignInLink } from '../../server/src/services/console/index.ts';
import type { PersonRole } from '../../server/src/domain/approval-lifecycle.ts';
import { givePeopleRoles } from './approvals.ts';
import type { Harness } from './harness.ts';

/** Opens a fresh sign-in link for the person and presses its Sign in button, as a browser would: the session cookie it set. */
export async function signInAs(harness: Harness, workspaceId: string, crmUserId: string): Promise<string> {
  const link = await issueSignInLink(harness.deps, { workspaceId, crmUserId });
  expect((await fetch(`${harness.url}/sign-in?token=${link.token}`)).status).toBe(200);
  const response = await pressSignIn(harness, { token: link.token });
  expect(response.status).toBe(303);
  return sessionCookieOf(response)!;
}

/** The sign-in page's button: its form posted from this server's page (unless `headers` say otherwise). */
export function pressSignIn(
  harness: Harness,
  form: Record<string, string>,
  headers: Record<string, string> = { origin: harness.url, 'sec-fetch-site': 'same-origin' },
) {
  return fetch(`${harness.url}/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
}

/** Gives each person their role and signs each in: their session cookies, by CRM user id. */
export async function signInPeople(
  harness: Harness,
  workspaceId: string,
  roles: Record<string, PersonRole>,
): Promise<Record<string, string>> {
  await givePeopleRoles(harness, workspaceId, roles);
  const cookies: Record<string, string> = {};
  for (const crmUserId of Object.keys(roles)) cookies[crmUserId] = await signInAs(harness, workspaceId, crmUserId);
  return cookies;
}

export function sessionCookieOf(response: Response): string | undefined {
  const header = response.headers.getSetCookie().find((cookie) => cookie.startsWith('ag_console_session='));
  return header?.split(';')[0];
}

/** A call from the console's own page: the session cookie, the custom header and this server's Origin. */
export function consoleCall(harness: Harness, cookie: string, method: string, path: string, body?: unknown) {
  return fetch(`${harness.url}${path}`, {
    method,
    headers: {
      cookie,
      ...(method === 'GET' ? {} : { 'x-console-request': '1', origin: harness.url }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
