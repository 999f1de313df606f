import type { Client } from '@hubspot/api-client';
import { z } from 'zod';
import type { CrmPort } from '../port.ts';
import { parseResponse } from './responses.ts';
import type { Paced } from './pacing.ts';
import { withRetry, type RetryDeps } from './retry.ts';

export interface ListApis {
  getMemberships(listId: string, after: string | undefined): Promise<unknown>;
}

/** The most members HubSpot returns in one page of a list's memberships. */
const PAGE = 250;

export function listApis(client: Client, paced: Paced): ListApis {
  const memberships = client.crm.lists.membershipsApi;
  return {
    getMemberships: paced((listId: string, after: string | undefined) =>
      memberships.getPage(listId, after, undefined, PAGE),
    ),
  };
}

const membershipsSchema = z.object({
  results: z.array(z.object({ recordId: z.union([z.string(), z.number()]) })),
  paging: z.object({ next: z.object({ after: z.string() }).optional() }).optional(),
});

/**
 * HubSpot lists (Lists API v3, scope crm.lists.read) for segment kill switches (issue 21): a
 * list's members, page by page, kept to the records asked about.
 */
export function listMethods(apis: ListApis, retry: RetryDeps): Pick<CrmPort, 'listMembers'> {
  return {
    async listMembers({ listId, recordIds }) {
      const wanted = new Set(recordIds);
      const found = new Set<string>();
      let after: string | undefined;
      do {
        const page = parseResponse(
          membershipsSchema,
          await withRetry(`read the members of list ${listId}`, () => apis.getMemberships(listId, after), retry),
          'GET crm/v3/lists/{listId}/memberships',
        );
        for (const { recordId } of page.results) if (wanted.has(String(recordId))) found.add(String(recordId));
        after = page.paging?.next?.after;
      } while (after !== undefined && found.size < wanted.size);
      return found;
    },
  };
}
