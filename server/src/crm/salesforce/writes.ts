import pMap from 'p-map';
import { AppError } from '../../errors.ts';
import type { CrmWriteOutcome, StagedCrmWrite } from '../port.ts';
import { type BulkOptions, type SfRequester, stageBulkUpdate } from './bulk.ts';

/** sObject Collections: 200 records per update call. */
export const COLLECTIONS_LIMIT = 200;

export interface WritePaths extends BulkOptions {
  /** From this many records in one write, one Bulk API 2.0 job instead of Collections calls. */
  bulkThreshold: number;
  /** Collections calls in flight at once for one write (Salesforce limits only long-running requests). */
  collectionsConcurrency: number;
}

/** A record as Salesforce takes it: its id and its fields' values, typed. */
export type SfRecord = { Id: string } & Record<string, unknown>;

/**
 * The text a Bulk API 2.0 CSV reads as null, quoted or not, with no escape: a record setting a field
 * to it (an agent's value, a person's edit) goes through Collections, whose JSON keeps it as text,
 * not cleared while the audit, the approver and a rollback take it as set. Any case, to be safe.
 */
const BULK_NULL = /^#N\/A$/i;
const readsAsBulkNull = (record: SfRecord) =>
  Object.values(record).some((value) => typeof value === 'string' && BULK_NULL.test(value));

/**
 * Stages an update of records, committed for one outcome per record in input order: from
 * `bulkThreshold` records one Bulk API 2.0 job, opened and uploaded now, closed at commit (rows it
 * left unprocessed, and records with a value the job would read as null, are sent through
 * Collections then); below it nothing is sent before commit, which writes through sObject
 * Collections, 200 records a call, several calls at once.
 */
export async function stageUpdate(
  call: SfRequester,
  sObject: string,
  records: readonly SfRecord[],
  paths: WritePaths,
): Promise<StagedCrmWrite> {
  const literalNulls = records.length < paths.bulkThreshold ? [] : records.filter(readsAsBulkNull);
  const bulk = literalNulls.length === 0 ? records : records.filter((record) => !readsAsBulkNull(record));
  if (records.length < paths.bulkThreshold || bulk.length === 0)
    return { commit: () => collectionsUpdate(call, sObject, records, paths), abort: async () => {} };
  const job = await stageBulkUpdate(call, sObject, bulk, paths);
  return {
    abort: () => job.abort(),
    async commit() {
      const outcomes = await job.commit();
      const unprocessed = bulk.filter((record) => outcomes.get(record.Id)?.state === 'unprocessed');
      const retried = new Map(
        (await collectionsUpdate(call, sObject, [...literalNulls, ...unprocessed], paths)).map((outcome) => [
          outcome.recordId,
          outcome,
        ]),
      );
      return records.map((record): CrmWriteOutcome => {
        const outcome = outcomes.get(record.Id);
        if (outcome?.state === 'written') return { recordId: record.Id, ok: true };
        if (outcome?.state === 'failed')
          return {
            recordId: record.Id,
            ok: false,
            reason: 'crm_rejected',
            message: `${outcome.code}: ${outcome.message}`,
            code: outcome.code,
          };
        return retried.get(record.Id) ?? noOutcome(record.Id);
      });
    },
  };
}

/**
 * Salesforce refuses a record another transaction holds (`UNABLE_TO_LOCK_ROW`: contacts of one
 * account written by calls side by side lock that account in turn) and advises sending it again;
 * those records go again after the round, one call at a time, at most this many times.
 */
export const LOCKED_ROW_RETRIES = 2;
const LOCKED_ROW = 'UNABLE_TO_LOCK_ROW';

async function collectionsUpdate(
  call: SfRequester,
  sObject: string,
  records: readonly SfRecord[],
  paths: WritePaths,
): Promise<CrmWriteOutcome[]> {
  let outcomes = await collectionsRound(call, sObject, records, paths.collectionsConcurrency);
  for (let retry = 0; retry < LOCKED_ROW_RETRIES; retry++) {
    const locked = records.filter((_, i) => outcomes[i]?.ok === false && outcomes[i]?.code === LOCKED_ROW);
    if (locked.length === 0) break;
    // A retry that cannot be sent at all (signed out, out of calls) leaves the lock refusals standing.
    const again = await collectionsRound(call, sObject, locked, 1).catch(() => null);
    if (!again) break;
    const byId = new Map(again.map((outcome) => [outcome.recordId, outcome]));
    outcomes = outcomes.map((outcome) => byId.get(outcome.recordId) ?? outcome);
  }
  return outcomes;
}

async function collectionsRound(
  call: SfRequester,
  sObject: string,
  records: readonly SfRecord[],
  concurrency: number,
): Promise<CrmWriteOutcome[]> {
  const chunks: SfRecord[][] = [];
  for (let i = 0; i < records.length; i += COLLECTIONS_LIMIT) chunks.push(records.slice(i, i + COLLECTIONS_LIMIT));
  const answers = await pMap(
    chunks,
    (chunk) => collectionsCall(call, sObject, chunk).catch((error: unknown) => ({ chunk, error })),
    { concurrency },
  );
  // When every call failed alike (signed out, out of calls), the caller hears the error itself; when
  // only some did, the others' outcomes stand and the failed calls' records are unavailable.
  const failed = answers.flatMap((answer) => (Array.isArray(answer) ? [] : [answer.error]));
  if (failed.length > 0 && failed.length === answers.length) throw failed[0];
  return answers.flatMap((answer) =>
    Array.isArray(answer)
      ? answer
      : answer.chunk.map((record): CrmWriteOutcome => {
          const message = answer.error instanceof Error ? answer.error.message : 'Salesforce could not be reached.';
          return { recordId: record.Id, ok: false, reason: 'crm_unavailable', message };
        }),
  );
}

type CollectionsResult = { id: string | null; success: boolean; errors: { statusCode: string; message: string }[] };

async function collectionsCall(call: SfRequester, sObject: string, chunk: SfRecord[]): Promise<CrmWriteOutcome[]> {
  const records = chunk.map(({ Id, ...fields }) => ({ attributes: { type: sObject }, id: Id, ...fields }));
  let answer: CollectionsResult[];
  try {
    // allOrNone false: each record stands alone, and each result says what happened to it.
    answer = await call(`write ${chunk.length} ${sObject}`, (conn) =>
      conn.request<CollectionsResult[]>({
        method: 'PATCH',
        url: '/composite/sobjects',
        body: JSON.stringify({ allOrNone: false, records }),
        headers: { 'content-type': 'application/json' },
      }),
    );
  } catch (error) {
    // A 400 refuses the whole call before any record is written.
    if (error instanceof AppError && error.code === 'CRM_REJECTED')
      return chunk.map((record) => ({
        recordId: record.Id,
        ok: false,
        reason: 'crm_rejected',
        message: error.message,
      }));
    throw error;
  }
  return chunk.map((record, index): CrmWriteOutcome => {
    const result = answer[index];
    if (result?.success) return { recordId: record.Id, ok: true };
    if (!result) return noOutcome(record.Id);
    const first = result.errors[0];
    return {
      recordId: record.Id,
      ok: false,
      reason: 'crm_rejected',
      message: result.errors.map((e) => `${e.statusCode}: ${e.message}`).join('; ') || 'refused without a reason',
      ...(first ? { code: first.statusCode } : {}),
    };
  });
}

function noOutcome(recordId: string): CrmWriteOutcome {
  return { recordId, ok: false, reason: 'crm_unavailable', message: 'Salesforce reported no outcome for this record.' };
}
