import type { Client } from '@hubspot/api-client';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { CrmContactMatch, CrmCreateOutcome, CrmPort } from '../port.ts';
import type { Paced } from './pacing.ts';
import { assertBatchSize } from './records.ts';
import { batchObjectsSchema, parseResponse } from './responses.ts';
import { withRetry, type RetryDeps } from './retry.ts';

/** HubSpot's largest search page. */
const SEARCH_PAGE = 200;
/** What the duplicate check compares; `hs_email_domain` is HubSpot's own, computed from `email`. */
const CONTACT_MATCH_PROPERTIES = ['email', 'firstname', 'lastname', 'hs_email_domain'];

const searchPageSchema = z.object({
  results: z.array(z.object({ id: z.string(), properties: z.record(z.string(), z.string().nullable()) })),
  paging: z.object({ next: z.object({ after: z.string() }).optional() }).optional(),
});

export interface CreationApis {
  search: (objectType: string, body: SearchBody) => Promise<unknown>;
  create: (
    objectType: string,
    body: { inputs: { properties: Record<string, string>; associations: [] }[] },
  ) => Promise<unknown>;
  archive: (objectType: string, body: { inputs: { id: string }[] }) => Promise<unknown>;
}

interface SearchBody {
  filterGroups: { filters: { propertyName: string; operator: 'IN'; values: string[] }[] }[];
  properties: string[];
  limit: number;
  after?: string;
}

export function creationApis(client: Client, paced: Paced): CreationApis {
  const search = client.crm.objects.searchApi;
  const batch = client.crm.objects.batchApi;
  return {
    search: paced((objectType: string, body: SearchBody) =>
      // The api-client types the operator as its own enum; the wire value is the same string.
      search.doSearch(objectType, body as unknown as Parameters<typeof search.doSearch>[1]),
    ),
    create: paced((objectType: string, body: Parameters<CreationApis['create']>[1]) => batch.create(objectType, body)),
    archive: paced((objectType: string, body: Parameters<CreationApis['archive']>[1]) =>
      batch.archive(objectType, body),
    ),
  };
}

/** The duplicate check's search and the batch creation of records (issue 21). */
export function creationMethods(
  apis: CreationApis,
  retry: RetryDeps,
): Pick<CrmPort, 'findContactsLike' | 'findByProperty' | 'createBatch' | 'archiveBatch'> {
  const searchAll = async (objectType: string, filterGroups: SearchBody['filterGroups'], properties: string[]) => {
    const found: { id: string; properties: Record<string, string | null> }[] = [];
    let after: string | undefined;
    do {
      const body: SearchBody = {
        filterGroups,
        properties,
        limit: SEARCH_PAGE,
        ...(after === undefined ? {} : { after }),
      };
      const answer = await withRetry(`search ${objectType}`, () => apis.search(objectType, body), retry);
      const page = parseResponse(searchPageSchema, answer, `${objectType} search`);
      found.push(...page.results);
      after = page.paging?.next?.after;
    } while (after !== undefined);
    return found;
  };
  return {
    async findByProperty({ objectType, property, values }) {
      assertBatchSize(values.length);
      const found = new Map<string, string>();
      if (values.length === 0) return found;
      for (const record of await searchAll(objectType, [{ filters: [inFilter(property, values)] }], [property])) {
        const value = record.properties[property];
        if (value) found.set(value, record.id);
      }
      return found;
    },

    async findContactsLike({ emails, lastNames, domains }) {
      assertBatchSize(Math.max(emails.length, lastNames.length, domains.length));
      // Filter groups are OR'd and filters in a group AND'd: the same email, or a last name at a domain.
      const filterGroups: SearchBody['filterGroups'] = [];
      if (emails.length > 0) filterGroups.push({ filters: [inFilter('email', emails)] });
      if (lastNames.length > 0 && domains.length > 0)
        filterGroups.push({ filters: [inFilter('lastname', lastNames), inFilter('hs_email_domain', domains)] });
      if (filterGroups.length === 0) return [];
      return (await searchAll('contacts', filterGroups, CONTACT_MATCH_PROPERTIES)).map(
        (record): CrmContactMatch => ({
          id: record.id,
          email: record.properties['email'] ?? null,
          firstName: record.properties['firstname'] ?? null,
          lastName: record.properties['lastname'] ?? null,
          emailDomain: record.properties['hs_email_domain'] ?? null,
        }),
      );
    },

    async archiveBatch({ objectType, recordIds }) {
      assertBatchSize(recordIds.length);
      if (recordIds.length === 0) return;
      // Archiving is idempotent (HubSpot answers 204 for an id already archived), so it is retried like a read.
      await withRetry(
        `archive ${recordIds.length} ${objectType}`,
        () => apis.archive(objectType, { inputs: recordIds.map((id) => ({ id })) }),
        retry,
      );
    },

    async createBatch({ objectType, keyProperty, records }) {
      assertBatchSize(records.length);
      if (records.length === 0) return [];
      let answer: unknown;
      try {
        // Only a 429 is retried: a create that failed otherwise may have landed, and a second one
        // would be the duplicate this check exists to stop.
        answer = await withRetry(
          `create ${records.length} ${objectType}`,
          () =>
            apis.create(objectType, {
              inputs: records.map((properties) => ({ properties: { ...properties }, associations: [] })),
            }),
          retry,
          true,
        );
      } catch (error) {
        const rejected = error instanceof AppError && error.code === 'CRM_REJECTED';
        const message = error instanceof AppError ? error.message : 'HubSpot could not be reached.';
        return records.map((record) => ({
          key: record[keyProperty] ?? '',
          ok: false,
          reason: rejected ? 'crm_rejected' : 'crm_unavailable',
          message,
        }));
      }
      const parsed = parseResponse(batchObjectsSchema, answer, `batch create of ${objectType}`);
      const created = new Map<string, string>();
      for (const record of parsed.results) {
        const key = record.properties[keyProperty];
        if (key) created.set(key, record.id);
      }
      const failure = parsed.errors?.[0]?.message;
      return records.map((record): CrmCreateOutcome => {
        const key = record[keyProperty] ?? '';
        const recordId = created.get(key);
        if (recordId !== undefined) return { key, ok: true, recordId };
        return failure === undefined
          ? { key, ok: false, reason: 'crm_unavailable', message: 'HubSpot reported no outcome for this record.' }
          : { key, ok: false, reason: 'crm_rejected', message: failure };
      });
    },
  };
}

function inFilter(propertyName: string, values: readonly string[]) {
  return { propertyName, operator: 'IN' as const, values: values.map((value) => value.toLowerCase()) };
}
