import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { eighteenCharacters, SALESFORCE_ID } from './names.ts';

/**
 * Salesforce's OAuth UserInfo endpoint (`/services/oauth2/userinfo`, OpenID Connect): asked with a
 * user's access token as Bearer, it answers that user's id and org id, or refuses the token
 * (403 `Bad_OAuth_Token` as Salesforce's identity service answers, 401 on some pods). It counts
 * against no API allocation, so it is the cheap proof that a Canvas signed request's token is live.
 */

/** How long Salesforce has to answer before the console's opening is refused as unavailable. */
export const USERINFO_TIMEOUT_MS = 10_000;

/** The fields of the answer we read; Salesforce's carries many more (names, email, photos, urls). */
const userinfoSchema = z.object({
  user_id: z.string().regex(SALESFORCE_ID),
  organization_id: z.string().regex(SALESFORCE_ID),
});

/**
 * Whose `token` is, asked at `instanceUrl`, the org's address as the workspace stored it. The
 * token is sent in the Authorization header only, no redirect is followed (a redirect would carry
 * it elsewhere), and it is never part of an error or a log line.
 */
export async function userOfToken(
  instanceUrl: string,
  token: string,
  timeoutMs = USERINFO_TIMEOUT_MS,
): Promise<{ userId: string; orgId: string }> {
  const url = new URL('/services/oauth2/userinfo', instanceUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw unavailable(`it could not be reached (${error instanceof Error ? error.name : 'error'})`, error);
  }
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel();
    throw new AppError(
      'UNAUTHENTICATED',
      'Salesforce no longer accepts the access token this signed request carries (it expired, was revoked, or is of another org): reopen the page in Salesforce for a fresh one.',
      { details: { reason: 'crm_token_refused' } },
    );
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw unavailable(`it answered ${response.status}`);
  }
  const answer = userinfoSchema.safeParse(await response.json().catch(() => undefined));
  if (!answer.success) throw unavailable('its answer named no user and org');
  return { userId: eighteenCharacters(answer.data.user_id), orgId: eighteenCharacters(answer.data.organization_id) };
}

function unavailable(why: string, cause?: unknown): AppError {
  return new AppError(
    'CRM_UNAVAILABLE',
    `Salesforce could not confirm the signed request's user (${why}); nothing was opened. Try again shortly.`,
    { retryable: true, ...(cause === undefined ? {} : { cause }) },
  );
}
