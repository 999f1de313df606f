import type { Client } from '@hubspot/api-client';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import { AppError } from '../../errors.ts';
import type { CrmPort, CrmRecordValues, CrmWriteOutcome } from '../port.ts';
import type { Paced } from './pacing.ts';
import { batchObjectsSchema, parseResponse, type BatchError } from './responses.ts';
import { withRetry, type RetryDeps } from './retry.ts';

/** HubSpot's limit on inputs per batch call. */
export const BATCH_LIMIT = 100;

type BatchApi = Client['crm']['objects']['batchApi'];

export interface RecordApis {
  read: BatchApi['read'];
  update: BatchApi['update'];
}

export function recordApis(client: Client, paced: Paced): RecordApis {
  const objects = client.crm.objects.batchApi;
  return { read: paced(objects.read.bind(objects)), update: paced(objects.update.bind(objects)) };
}

/** Reading and writing the governed records' values, a batch of at most BATCH_LIMIT per call. */
export function recordMethods(apis: RecordApis, retry: RetryDeps): Pick<CrmPort, 'readBatch' | 'writeBatch'> {
  return {
    async readBatch({ objectType, recordIds, properties }) {
      assertBatchSize(recordIds.length);
      const found = new Map<string, CrmRecordValues>();
      if (recordIds.length === 0) return found;
      const answer = await withRetry(
        `read ${recordIds.length} ${objectType}`,
        () =>
          apis.read(objectType, {
            inputs: recordIds.map((id) => ({ id })),
            properties: [...properties],
            propertiesWithHistory: [],
          }),
        retry,
      );
      const parsed = parseResponse(batchObjectsSchema, answer, `batch read of ${objectType}`);
      // HubSpot answers 207 with OBJECT_NOT_FOUND for ids it does not have: those are simply absent.
      const unexpected = (parsed.errors ?? []).find((error) => error.category !== 'OBJECT_NOT_FOUND');
      if (unexpected !== undefined)
        throw new AppError('CRM_REJECTED', unexpected.message, { details: { category: unexpected.category } });
      for (const record of parsed.results) {
        const values: CrmRecordValues = {};
        for (const name of properties) values[name] = record.properties[name] ?? null;
        found.set(record.id, values);
      }
      return found;
    },

    async writeBatch({ objectType, writes }) {
      assertBatchSize(writes.length);
      if (writes.length === 0) return [];
      let answer: unknown;
      try {
        // Setting values is idempotent, so repeating a batch after a 5xx or a dropped connection is safe.
        answer = await withRetry(
          `write ${writes.length} ${objectType}`,
          () =>
            apis.update(objectType, {
              inputs: writes.map((write) => ({ id: write.recordId, properties: { ...write.properties } })),
            }),
          retry,
        );
      } catch (error) {
        // A 400 refuses the whole batch (HubSpot validates every value before writing any).
        if (error instanceof AppError && error.code === 'CRM_REJECTED') {
          return writes.map((write) => ({
            recordId: write.recordId,
            ok: false,
            reason: 'crm_rejected',
            message: error.message,
          }));
        }
        throw error;
      }
      const parsed = parseResponse(batchObjectsSchema, answer, `batch update of ${objectType}`);
      return outcomesInOrder(
        writes.map((write) => write.recordId),
        new Set(parsed.results.map((record) => record.id)),
        parsed.errors ?? [],
      );
    },
  };
}

/** A HubSpot table's entry for `objectType`; another CRM's object type is refused rather than sent to HubSpot. */
export function ofHubSpotObject<T>(table: Partial<Record<ObjectType, T>>, objectType: ObjectType): T {
  const entry = table[objectType];
  if (entry === undefined)
    throw new AppError(
      'VALIDATION_FAILED',
      `${objectType} is not a HubSpot object type; this workspace's CRM is HubSpot.`,
    );
  return entry;
}

export function assertBatchSize(size: number): void {
  if (size > BATCH_LIMIT)
    throw new AppError(
      'VALIDATION_FAILED',
      `HubSpot takes at most ${BATCH_LIMIT} records per call; got ${size}. Chunk by batchLimit.`,
    );
}

function outcomesInOrder(
  recordIds: readonly string[],
  written: ReadonlySet<string>,
  errors: readonly BatchError[],
): CrmWriteOutcome[] {
  const failures = new Map<string, string>();
  for (const error of errors) {
    for (const id of error.context?.['ids'] ?? []) failures.set(id, error.message);
  }
  return recordIds.map((recordId): CrmWriteOutcome => {
    const message = failures.get(recordId);
    if (message !== undefined) return { recordId, ok: false, reason: 'crm_rejected', message };
    if (written.has(recordId)) return { recordId, ok: true };
    // Neither written nor refused: we cannot tell what HubSpot did, so do not claim either.
    return { recordId, ok: false, reason: 'crm_unavailable', message: 'HubSpot reported no outcome for this record.' };
  });
}
