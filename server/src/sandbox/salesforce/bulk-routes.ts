import { randomBytes } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import { parseJson } from '../../../../shared/json-text.ts';
import { planUpdate } from './record-updates.ts';
import type { SfRequest, SfResponse } from './wire.ts';
import { updateRecord, type SalesforceSandboxState, type SandboxBulkJob } from './state.ts';

const errors = (status: number, errorCode: string, message: string): SfResponse => ({
  status,
  body: [{ errorCode, message }],
});

/** Bulk API 2.0's null in a CSV cell: the field is cleared (an empty cell leaves it as it is). */
const NULL_CELL = '#N/A';

/**
 * Bulk API 2.0 ingest, update jobs only: `POST /jobs/ingest` opens a job, `PUT …/{id}/batches`
 * takes its CSV, `PATCH …/{id} {state: UploadComplete}` is answered at once and the job processed
 * just after, as Salesforce queues it (each row on its own), `GET …/{id}` tells its state
 * (`UploadComplete` until it is processed, then `JobComplete`) and counts, and `successfulResults`, `failedResults`
 * (`sf__Id`, `sf__Error` as `CODE:message:fields --`) and `unprocessedrecords` give each row back.
 * Undefined when the path is not an ingest route.
 */
export function bulkIngestRoute(
  state: SalesforceSandboxState,
  request: SfRequest,
  rest: string,
  by: { userId: string; origin: string },
): SfResponse | undefined {
  const m = /^\/jobs\/ingest(?:\/(\w+))?(?:\/(batches|successfulResults|failedResults|unprocessedrecords))?\/?$/.exec(
    rest,
  );
  if (!m) return undefined;
  const [, jobId, part] = m;
  if (jobId === undefined) return request.method === 'POST' ? openJob(state, request, by.userId) : notFound();
  const job = state.bulkJobs.get(jobId);
  if (!job) return notFound();
  if (part === undefined && request.method === 'GET') return { status: 200, body: jobInfo(job) };
  if (part === undefined && request.method === 'PATCH') return changeState(state, job, request, by);
  if (part === undefined && request.method === 'DELETE') {
    state.bulkJobs.delete(job.id);
    return { status: 204 };
  }
  if (part === 'batches' && request.method === 'PUT') {
    if (job.state !== 'Open') return errors(409, 'INVALIDJOBSTATE', `Job ${job.id} is not open for data.`);
    job.csv += request.rawBody;
    return { status: 201 };
  }
  if (request.method === 'GET' && part !== undefined && part !== 'batches') {
    if (job.state !== 'JobComplete') return errors(409, 'INVALIDJOBSTATE', `Job ${job.id} has not completed.`);
    return { status: 200, csv: results(job, part) };
  }
  return notFound();
}

function notFound(): SfResponse {
  return errors(404, 'NOT_FOUND', 'The requested resource does not exist');
}

function openJob(state: SalesforceSandboxState, request: SfRequest, userId: string): SfResponse {
  let body: { object?: unknown; operation?: unknown };
  try {
    body = parseJson(request.rawBody) as typeof body;
  } catch {
    return errors(400, 'JSON_PARSER_ERROR', 'Unexpected character in the request body');
  }
  const object = typeof body.object === 'string' ? body.object : '';
  if (!state.objects.has(object)) return errors(400, 'INVALIDJOB', `Unable to find object: ${object}`);
  if (body.operation !== 'update')
    return errors(400, 'INVALIDJOB', 'The local Salesforce runs update jobs only (the adapter sends no others).');
  const job: SandboxBulkJob = {
    id: `750${randomBytes(6).toString('hex').slice(0, 12)}AAA`,
    object,
    operation: 'update',
    state: 'Open',
    createdById: userId,
    createdDate: state.now(),
    csv: '',
    header: [],
    rows: [],
  };
  state.bulkJobs.set(job.id, job);
  return { status: 200, body: jobInfo(job) };
}

function changeState(
  state: SalesforceSandboxState,
  job: SandboxBulkJob,
  request: SfRequest,
  by: { userId: string; origin: string },
): SfResponse {
  const wanted = /"state"\s*:\s*"(\w+)"/.exec(request.rawBody)?.[1];
  if (wanted === 'Aborted' && job.state === 'Open') job.state = 'Aborted';
  else if (wanted === 'UploadComplete' && job.state === 'Open') {
    job.state = 'UploadComplete';
    // Answered before the job is processed, as Salesforce answers and queues it: a look at the job
    // before then finds it not complete.
    const run = () => processJob(state, job, by);
    const held = state.faults.holdBulkJob?.(job.id);
    if (held) void held.then(run, run);
    else setImmediate(run);
  } else return errors(409, 'INVALIDJOBSTATE', `Job ${job.id} cannot go from ${job.state} to ${wanted}.`);
  return { status: 200, body: jobInfo(job) };
}

/** Processes a closed job; a job that cannot be processed at all fails whole, as Salesforce reports it. */
function processJob(state: SalesforceSandboxState, job: SandboxBulkJob, by: { userId: string; origin: string }): void {
  job.state = 'InProgress';
  try {
    processRows(state, job, by);
    job.state = 'JobComplete';
  } catch (error) {
    job.state = 'Failed';
    job.errorMessage = error instanceof Error ? error.message : String(error);
  }
}

/** Each row is one record's update on its own: a refused row fails alone, rows past the fault's limit stay unprocessed. */
function processRows(state: SalesforceSandboxState, job: SandboxBulkJob, by: { userId: string; origin: string }): void {
  const [header = [], ...rows] = parseCsv(job.csv);
  job.header = header;
  const limit = state.faults.bulkProcessLimit ?? Number.POSITIVE_INFINITY;
  // Bulk writes name the Bulk API in their change events, with the caller's client id.
  const origin = by.origin.replace('/api/rest/', '/api/bulkapi/');
  job.rows = rows.map((values, index) => {
    if (index >= limit) return { values };
    const input: Record<string, unknown> = { attributes: { type: job.object } };
    header.forEach((name, column) => {
      const cell = values[column] ?? '';
      if (cell !== '') input[name] = cell === NULL_CELL ? null : cell;
    });
    const plan = planUpdate(state, input);
    if (!plan.ok)
      return {
        values,
        outcome: {
          id: plan.id ?? '',
          error: `${plan.error.statusCode}:${plan.error.message}:${plan.error.fields.join(',')} --`,
        },
      };
    updateRecord(state, plan.type, plan.id, plan.values, { userId: by.userId, origin });
    return { values, outcome: { id: plan.id, error: '' } };
  });
}

function jobInfo(job: SandboxBulkJob) {
  const processed = job.rows.filter((row) => row.outcome);
  return {
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: job.createdById,
    createdDate: job.createdDate.toISOString().replace('Z', '+0000'),
    state: job.state,
    concurrencyMode: 'Parallel',
    contentType: 'CSV',
    apiVersion: 67.0,
    jobType: 'V2Ingest',
    lineEnding: 'LF',
    columnDelimiter: 'COMMA',
    numberRecordsProcessed: processed.length,
    numberRecordsFailed: processed.filter((row) => row.outcome?.error).length,
    retries: 0,
    ...(job.errorMessage === undefined ? {} : { errorMessage: job.errorMessage }),
  };
}

function results(job: SandboxBulkJob, part: string): string {
  if (part === 'unprocessedrecords')
    return stringify([job.header, ...job.rows.filter((row) => !row.outcome).map((row) => row.values)]);
  const failed = part === 'failedResults';
  const rows = job.rows.flatMap((row) => {
    if (!row.outcome || (row.outcome.error !== '') !== failed) return [];
    return [[row.outcome.id, failed ? row.outcome.error : 'false', ...row.values]];
  });
  return stringify([['sf__Id', failed ? 'sf__Error' : 'sf__Created', ...job.header], ...rows]);
}

/** RFC 4180 CSV, as Bulk API 2.0 takes it: quoted cells may hold commas, newlines and doubled quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += char;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
