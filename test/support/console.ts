import { expect } from 'vitest';
import { issueSignInLink } from '../../server/src/services/console/index.ts';
import type { PersonRole } from '../../server/src/domain/approval-lifecycle.ts';
import { givePeopleRoles } from './approvals.ts';
import type { Harness } from './harness.ts';

/** Opens a fresh sign-in link for the person, as a browser would, and answers the session cookie it set. */
export async function signInAs(harness: Harness, workspaceId: string, crmUserId: string): Promise<string> {
  const link = await issueSignInLink(harness.deps, { workspaceId, crmUserId });
  const response = await fetch(`${harness.url}/sign-in?token=${link.token}`, { redirect: 'manual' });
  expect(response.status).toBe(303);
  return sessionCookieOf(response)!;
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
