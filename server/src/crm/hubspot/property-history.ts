import { z } from 'zod';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import { AppError } from '../../errors.ts';
import type { CrmPort, CrmValueChange } from '../port.ts';
import { hubspotChangeSource, userOfSourceId } from './change-sources.ts';
import { batchErrorSchema, parseResponse } from './responses.ts';
import { withRetry, type RetryDeps } from './retry.ts';

export interface HistoryApis {
  read(
    objectType: string,
    input: { inputs: { id: string }[]; properties: string[]; propertiesWithHistory: string[] },
  ): Promise<unknown>;
}

const revisionSchema = z.object({
  value: z.string().nullable().optional(),
  // The api-client turns HubSpot's ISO timestamps into Dates; the raw answer has strings.
  timestamp: z.union([z.date(), z.string()]).transform((value) => new Date(value)),
  sourceType: z.string(),
  sourceId: z.string().nullable().optional(),
  updatedByUserId: z.union([z.number(), z.string()]).nullable().optional(),
});

const historySchema = z.object({
  results: z.array(
    z.object({ id: z.string(), propertiesWithHistory: z.record(z.string(), z.array(revisionSchema)).optional() }),
  ),
  errors: z.array(batchErrorSchema).optional(),
});

/** HubSpot's property history, newest revision first, as the batch read's `propertiesWithHistory` gives it (issues 7, 17). */
export function propertyHistoryMethods(
  apis: HistoryApis,
  retry: RetryDeps,
  /** Our app's id: its revisions are ours, not an integration's. */
  appId: string | null,
): Pick<CrmPort, 'readLatestChanges' | 'readPropertyHistory'> {
  const readPropertyHistory = async ({
    objectType,
    recordIds,
    properties,
  }: {
    objectType: ObjectType;
    recordIds: readonly string[];
    properties: readonly string[];
  }) => {
    const histories = new Map<string, Record<string, CrmValueChange[]>>();
    if (recordIds.length === 0) return histories;
    const answer = await withRetry(
      `read history of ${recordIds.length} ${objectType}`,
      () =>
        apis.read(objectType, {
          inputs: recordIds.map((id) => ({ id })),
          properties: [],
          propertiesWithHistory: [...properties],
        }),
      retry,
    );
    const parsed = parseResponse(historySchema, answer, `batch read of ${objectType} with history`);
    const unexpected = (parsed.errors ?? []).find((error) => error.category !== 'OBJECT_NOT_FOUND');
    if (unexpected !== undefined)
      throw new AppError('CRM_REJECTED', unexpected.message, { details: { category: unexpected.category } });
    for (const record of parsed.results) {
      const revisions: Record<string, CrmValueChange[]> = {};
      for (const [name, list] of Object.entries(record.propertiesWithHistory ?? {}))
        revisions[name] = list.map((revision) => toValueChange(revision, appId));
      histories.set(record.id, revisions);
    }
    return histories;
  };
  return {
    readPropertyHistory,
    async readLatestChanges(input: {
      objectType: ObjectType;
      recordIds: readonly string[];
      properties: readonly string[];
    }) {
      const latest = new Map<string, Record<string, CrmValueChange>>();
      for (const [recordId, revisions] of await readPropertyHistory(input)) {
        const changes: Record<string, CrmValueChange> = {};
        for (const [name, list] of Object.entries(revisions)) if (list[0]) changes[name] = list[0];
        latest.set(recordId, changes);
      }
      return latest;
    },
  };
}

function toValueChange(revision: z.infer<typeof revisionSchema>, appId: string | null): CrmValueChange {
  const sourceId = revision.sourceId ?? null;
  return {
    value: revision.value ?? null,
    at: revision.timestamp,
    // HubSpot names an app's writes by its id: ours read as ours, not as another integration's (issue 19).
    source: hubspotChangeSource({ changeSource: revision.sourceType, sourceId, appId }),
    sourceId,
    userId:
      revision.updatedByUserId === undefined || revision.updatedByUserId === null
        ? userOfSourceId(sourceId)
        : String(revision.updatedByUserId),
  };
}
