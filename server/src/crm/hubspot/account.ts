import type { Client } from '@hubspot/api-client';
import { z } from 'zod';
import type { CrmPort } from '../port.ts';
import { parseResponse } from './responses.ts';
import type { Paced } from './pacing.ts';
import { withRetry, type RetryDeps } from './retry.ts';

export interface AccountApis {
  getDetails(): Promise<unknown>;
}

/** A non-2xx answer in the shape of the api-client's ApiException, so `withRetry` classifies it as it does the SDK's. */
class HubSpotAnswerError extends Error {
  readonly code: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
  constructor(code: number, body: unknown, headers: Record<string, string>) {
    super(`HubSpot answered ${code}.`);
    this.code = code;
    this.body = body;
    this.headers = headers;
  }
}

// The api-client (v14) has no account-info API: `apiRequest` sends the raw call and never throws on a status.
export function accountApis(client: Client, paced: Paced): AccountApis {
  return {
    getDetails: paced(async () => {
      const response = await client.apiRequest({ method: 'GET', path: '/account-info/v3/details' });
      const body: unknown = await response.json().catch(() => undefined);
      if (!response.ok) throw new HubSpotAnswerError(response.status, body, Object.fromEntries(response.headers));
      return body;
    }),
  };
}

const accountDetailsSchema = z.object({ portalId: z.union([z.number().int(), z.string().regex(/^[0-9]+$/)]) });

/**
 * GET /account-info/v3/details: the cheapest call that proves a token works and names the
 * account (portal) it opens, so `workspace add` refuses a mistyped token or another account's
 * before anything is stored (issue 18). 401 and 403 become CRM_AUTH_FAILED, as on every call.
 */
export function accountMethods(apis: AccountApis, retry: RetryDeps): Pick<CrmPort, 'readAccount'> {
  return {
    async readAccount() {
      const answer = await withRetry('read the account details', () => apis.getDetails(), retry);
      return { accountId: String(parseResponse(accountDetailsSchema, answer, 'GET account-info/v3/details').portalId) };
    },
  };
}
