import type { Connection } from '@jsforce/jsforce-node';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'csv-stringify/sync';
import { AppError } from '../../errors.ts';

/** One request through the adapter's budget check and error mapping. */
export type SfRequester = <T>(what: string, request: (conn: Connection) => Promise<T>) => Promise<T>;

/** A record's outcome in a Bulk job: written, refused with Salesforce's status code, or left unprocessed. */
export type BulkRecordOutcome =
  | { state: 'written' }
  | { state: 'failed'; code: string; message: string }
  | { state: 'unprocessed' };

export interface BulkOptions {
  /**
   * The first wait between two looks at a job Salesforce has not finished (the first look is at
   * once, when the close is answered); each wait after is half as long again, up to ten times this.
   */
  pollIntervalMs: number;
  /** How long to wait for the job; past it the records' fate is unknown and the call fails. */
  pollTimeoutMs: number;
}

/** Bulk API 2.0's null in a CSV cell: the field is cleared. An empty cell leaves a field as it is. */
const NULL_CELL = '#N/A';

/** A Bulk job opened with its CSV uploaded: Salesforce processes nothing of it until it is closed. */
export interface StagedBulkJob {
  /** Closes the job and waits for it: each record's outcome, keyed by the id sent. */
  commit(): Promise<Map<string, BulkRecordOutcome>>;
  /** Aborts the job unless it was closed: nothing of it is written. */
  abort(): Promise<void>;
}

/**
 * Stages an update of records as one Bulk API 2.0 ingest job, through jsforce's bulk2 (which sends
 * our `Sforce-Call-Options` like every other call): open, upload the CSV. Committing closes it and
 * polls until complete, so a clean job is four calls; the failed rows (`sf__Error` is
 * `CODE:message:fields --`) are asked for only when the job counted failures, and the unprocessed
 * rows only when it processed fewer than were sent. Every other record was written.
 */
export async function stageBulkUpdate(
  call: SfRequester,
  sObject: string,
  records: readonly ({ Id: string } & Record<string, unknown>)[],
  options: BulkOptions,
): Promise<StagedBulkJob> {
  const what = `${records.length} ${sObject} in a Bulk job`;
  const opening = call(`open a Bulk job for ${what}`, async (conn) => {
    const created = conn.bulk2.createJob({ object: sObject, operation: 'update', lineEnding: 'LF' });
    await created.open();
    return created;
  });
  opening.catch(() => undefined); // heard below, once the CSV is built
  // Built while the job is opened, so the upload goes the moment it is open.
  const csv = await toCsv(records).catch(async (error: unknown) => {
    await opening.then((job) => job.abort()).catch(() => undefined);
    throw error;
  });
  const job = await opening;
  // Nothing is processed before the upload is complete: an open job is aborted rather than left to expire.
  const abortIfOpen = async () => {
    if (job.getInfo().state === 'Open') await job.abort().catch(() => undefined);
  };
  try {
    await call(`upload ${what}`, () => job.uploadData(csv));
  } catch (error) {
    await abortIfOpen();
    throw error;
  }
  return {
    abort: abortIfOpen,
    async commit() {
      try {
        await call(`close the Bulk job for ${what}`, () => job.close());
        await waitForJob(call, job, what, options);
      } catch (error) {
        await abortIfOpen();
        throw error;
      }
      const info = job.getInfo();
      const outcomes = new Map<string, BulkRecordOutcome>(records.map((record) => [record.Id, { state: 'written' }]));
      if (info.numberRecordsFailed > 0)
        for (const row of await call(`read the failed rows of ${what}`, () => job.getFailedResults()))
          outcomes.set(idOf(row), bulkFailure(String((row as Record<string, unknown>)['sf__Error'] ?? '')));
      if (info.numberRecordsProcessed < records.length)
        for (const row of await call(`read the unprocessed rows of ${what}`, () => job.getUnprocessedRecords()))
          outcomes.set(idOf(row), { state: 'unprocessed' });
      return outcomes;
    },
  };
}

type IngestJob = Awaited<ReturnType<Connection['bulk2']['createJob']>>;

/**
 * Looks at a closed job until Salesforce has processed it: the first look at once (an org queues a
 * job, so it may still be `UploadComplete` or `InProgress`), then after waits growing from
 * `pollIntervalMs` to ten times it, so a job queued for minutes costs tens of calls, not hundreds.
 * Each look is a call of its own (counted and checked against the budget).
 */
async function waitForJob(call: SfRequester, job: IngestJob, what: string, options: BulkOptions): Promise<void> {
  const deadline = Date.now() + options.pollTimeoutMs;
  let wait = options.pollIntervalMs;
  for (;;) {
    const info = await call(`look at the Bulk job writing ${what}`, () => job.check());
    if (info.state === 'JobComplete') return;
    if (info.state === 'Failed' || info.state === 'Aborted')
      throw new AppError(
        'CRM_REJECTED',
        `Salesforce ended the Bulk job writing ${what} ${info.state}: ${info.errorMessage ?? 'no reason given'}`,
      );
    if (info.state === 'Open')
      throw new AppError('CRM_REJECTED', `Salesforce still has the Bulk job writing ${what} open after its close.`);
    if (Date.now() + wait > deadline)
      throw new AppError(
        'CRM_UNAVAILABLE',
        `Salesforce had not finished the Bulk job writing ${what} after ${options.pollTimeoutMs < 1_000 ? `${options.pollTimeoutMs} ms` : `${Math.round(options.pollTimeoutMs / 1_000)} s`}: its records may still be written.`,
        { retryable: true },
      );
    await sleep(wait);
    wait = Math.min(wait * 1.5, options.pollIntervalMs * 10);
  }
}

/**
 * csv-stringify quotes a cell holding a comma, a quote or a line feed, not one holding only a
 * carriage return; a reader that ends a row there (as RFC 4180's CRLF readers may) would take the
 * rest of the value and the record's next cells as a row of its own, an update of the record the
 * value names. So such a cell is quoted too.
 */
const LONE_CR = /\r/;

/** Records written into the CSV between two turns of the event loop. */
const CSV_SLICE = 200;

/**
 * The upload: one header of every field any record sets, a cell per field (empty where a record
 * leaves it alone). Built a slice at a time, yielding between slices, so the request to open the
 * job goes out at once and the rest of the change set's work goes on (2,000 records take tens of ms).
 */
async function toCsv(records: readonly Record<string, unknown>[]): Promise<string> {
  const columns = ['Id', ...new Set(records.flatMap((record) => Object.keys(record).filter((key) => key !== 'Id')))];
  const slices: string[] = [];
  for (let start = 0; start < records.length; start += CSV_SLICE) {
    await setImmediate();
    const rows = records.slice(start, start + CSV_SLICE).map((record) =>
      columns.map((column) => {
        if (!(column in record)) return '';
        const value = record[column];
        return value === null ? NULL_CELL : String(value);
      }),
    );
    slices.push(stringify(rows, { header: start === 0, columns, record_delimiter: 'unix', quoted_match: LONE_CR }));
  }
  return slices.join('');
}

/** A result row's record: the id column we sent (15 or 18 characters as the caller gave it), else Salesforce's. */
function idOf(row: unknown): string {
  const columns = row as Record<string, unknown>;
  return String(columns['Id'] || columns['sf__Id'] || '');
}

/** A result row's `sf__Error`, `CODE:message:fields --`, as one record's refusal. */
export function bulkFailure(error: string): BulkRecordOutcome {
  const [code = 'UNKNOWN_EXCEPTION', ...rest] = withoutClosingDashes(error).split(':');
  // The message may hold colons itself; the last part names the fields.
  const message = (rest.length > 1 ? rest.slice(0, -1) : rest).join(':').trim();
  return { state: 'failed', code, message: message || 'refused without a reason' };
}

/**
 * The error without its closing ` --`, trimmed from the end: `/\s*--\s*$/` tried every start of a
 * run of spaces to its end, and the message can quote a value of 65,536 of them.
 */
function withoutClosingDashes(error: string): string {
  const trimmed = error.trimEnd();
  return trimmed.endsWith('--') ? trimmed.slice(0, -2).trimEnd() : error;
}
