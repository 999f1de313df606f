import { sql, type SQL } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';

/**
 * Inserts many rows with few statements, each unnesting one array parameter per column. The query
 * builder's multi-row VALUES walks every value (it cost more than Postgres itself at 10,000
 * rows) and hits the 65,535-parameter limit; unnest of typed arrays also parses about twice as
 * fast in Postgres as jsonb_to_recordset. JSON columns travel the same way, each value as its
 * JSON text; they are `json`, which Postgres checks without building a document (jsonb made
 * storing a change set's audit events a third dearer).
 * Table and column names come from the constants below.
 */
export async function insertRows(tx: Tx, table: BulkTable, rows: readonly Record<string, unknown>[]): Promise<void> {
  for (const chunk of chunks(table, rows)) await tx.execute(unnestInsert(table, chunk, sql``));
}

const ROWS_PER_STATEMENT = 10_000;
/**
 * Rows with JSON also go in slices of about this much JSON text: PGlite copies a statement on its
 * way into its WebAssembly memory several times over, and that memory never shrinks, so 2,000
 * audit events in one 3.6 MB statement raised a server's peak by about 30 MB.
 */
const JSON_CHARS_PER_STATEMENT = 256 * 1024;

type Param = string | number | null;
/** Each column's values for the rows of one statement, as they travel; a text[] column's are its lists, encoded per statement. */
type Chunk = Map<string, (Param | readonly string[])[]>;

function* chunks(table: BulkTable, rows: readonly Record<string, unknown>[]): Generator<Chunk> {
  const columns: readonly (readonly [string, ColumnType])[] = COLUMNS[table];
  // Column by column, each pass reading one property of every row: row by row, a lookup by a
  // name that changes with each value was most of building a 10,000-row insert.
  const params = columns.map(([name, type]) => rows.map((row) => toParam(row[name], type)));
  const json = params.filter((_, index) => columns[index]![1] === 'json' || columns[index]![1] === 'json text');
  for (let start = 0, end = 0; start < rows.length; start = end) {
    let jsonChars = 0;
    while (end < rows.length && end - start < ROWS_PER_STATEMENT && jsonChars < JSON_CHARS_PER_STATEMENT) {
      for (const values of json) jsonChars += (values[end] as string | null)?.length ?? 0;
      end += 1;
    }
    const whole = start === 0 && end === rows.length;
    yield new Map(columns.map(([name], index) => [name, whole ? params[index]! : params[index]!.slice(start, end)]));
  }
}

/**
 * The same single statement, skipping rows whose key is already stored (a retried webhook
 * delivery); returns how many rows were new. Rows are not chunked: callers send at most a
 * request's worth.
 */
export async function insertRowsSkippingDuplicates(
  tx: Db | Tx,
  table: BulkTable,
  rows: readonly Record<string, unknown>[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const columns: readonly (readonly [string, ColumnType])[] = COLUMNS[table];
  const chunk: Chunk = new Map(columns.map(([name, type]) => [name, rows.map((row) => toParam(row[name], type))]));
  const result = await tx.execute(unnestInsert(table, chunk, sql` on conflict do nothing returning 1`));
  // node-postgres and PGlite both answer with `rows`.
  return (result as unknown as { rows: unknown[] }).rows.length;
}

function unnestInsert(table: BulkTable, chunk: Chunk, tail: SQL): SQL {
  const columns: readonly (readonly [string, ColumnType])[] = COLUMNS[table];
  const lists = new Map(
    columns
      .filter(([, type]) => type === 'text[]')
      .map(([name]) => [name, encodeLists(chunk.get(name) as (readonly string[] | null)[])]),
  );
  const values = (name: string) => lists.get(name)?.values ?? (chunk.get(name) as Param[]);
  // A column with one value in every row (the workspace, the change set, the actor) travels once
  // rather than once per row; the first column always stays an array, so there is one to unnest.
  const shared = new Set(
    columns
      .slice(1)
      .filter(([name]) => values(name).every((value, _, all) => value === all[0]))
      .map(([name]) => name),
  );
  const varying = columns.filter(([name]) => !shared.has(name));
  // Each array travels as the literal we write; both drivers pass a string through as it is.
  const arrays = varying.map(
    ([name, type]) => sql`${sql.param(arrayLiteral(values(name)))}::${sql.raw(ARRAY_TYPE[type])}`,
  );
  const selected = columns.map(([name, type]) => {
    const value = shared.has(name)
      ? sql`${sql.param(values(name)[0] ?? null)}::${sql.raw(SCALAR_TYPE[type])}`
      : sql.raw(`x.${name}`);
    if (type !== 'text[]') return value;
    return lists.get(name)!.joined ? sql`string_to_array(${value}, ',')` : sql`${value}::text[]`;
  });
  const names = sql.raw(columns.map(([name]) => name).join(', '));
  const varyingNames = varying.map(([name]) => name).join(', ');
  return sql`insert into ${sql.raw(table)} (${names}) select ${sql.join(selected, sql`, `)} from unnest(${sql.join(arrays, sql`, `)}) as x(${sql.raw(varyingNames)})${tail}`;
}

/** `json text`: a json column given its value as the JSON text to store, serialized already (an audit event's, as hashed). */
type ColumnType = 'uuid' | 'text' | 'integer' | 'bigint' | 'timestamptz' | 'json' | 'json text' | 'text[]';

const ARRAY_TYPE: Record<ColumnType, string> = {
  uuid: 'uuid[]',
  text: 'text[]',
  integer: 'integer[]',
  bigint: 'bigint[]',
  timestamptz: 'timestamptz[]',
  json: 'json[]',
  'json text': 'json[]',
  // Arrays of arrays must be rectangular in Postgres, so a text[] column travels as one string per
  // row (see encodeLists), turned back into text[] in the select.
  'text[]': 'text[]',
};

/** The type of one value of each kind of column; a text[] column's value is one string (see encodeLists). */
const SCALAR_TYPE: Record<ColumnType, string> = {
  uuid: 'uuid',
  text: 'text',
  integer: 'integer',
  bigint: 'bigint',
  timestamptz: 'timestamptz',
  json: 'json',
  'json text': 'json',
  'text[]': 'text',
};

/**
 * A statement's lists of one text[] column as strings: joined by commas, split again by
 * string_to_array, when no value holds a comma and no list is one empty string (reason codes and
 * user ids, always); else each as an array literal cast back, which keeps any value exact (issue 17)
 * but costs Postgres a parse per row, a tenth of storing a 10,000-row change set.
 */
function encodeLists(lists: readonly (readonly string[] | null)[]): { joined: boolean; values: Param[] } {
  const joined = lists.every(
    (list) => list === null || ((list.length !== 1 || list[0] !== '') && list.every((value) => !value.includes(','))),
  );
  return { joined, values: lists.map((list) => (list === null ? null : joined ? list.join(',') : arrayLiteral(list))) };
}

/** A JSON column's null is SQL NULL, as an absent value is; a text[] column's list stays a list until its statement is built. */
function toParam(value: unknown, type: ColumnType): Param | readonly string[] {
  if (value === null || value === undefined) return null;
  if (type === 'text[]') return value as readonly string[];
  if (type === 'json') return JSON.stringify(value);
  if (type === 'json text') return value as string;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return String(value);
  return value as string | number;
}

/** Backslash escapes in JSON that a Postgres array literal reads differently (\n, \u0001, ...); \" and \\ read the same. */
const JSON_ONLY_ESCAPE = /\\[^"\\]/;

/**
 * A Postgres array literal. JSON's quoting of strings is the array literal's quoting, and `null`
 * reads as NULL there, so the native serializer writes it: several times faster than escaping
 * element by element, which cost a tenth of a 10,000-row insert. Values JSON would escape
 * otherwise (control characters) take the element-by-element path.
 */
function arrayLiteral(values: readonly Param[]): string {
  const json = JSON.stringify(values);
  // Most lists hold no backslash at all: finding none is cheaper than the pattern's scan.
  if (!json.includes('\\') || !JSON_ONLY_ESCAPE.test(json)) return `{${json.slice(1, -1)}}`;
  return `{${values.map((value) => (value === null ? 'NULL' : `"${String(value).replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;
}

type BulkTable = keyof typeof COLUMNS;

const COLUMNS = {
  approvals: [
    ['id', 'uuid'],
    ['workspace_id', 'uuid'],
    ['change_set_id', 'uuid'],
    ['agent_id', 'uuid'],
    ['batch_id', 'text'],
    ['object_type', 'text'],
    ['record_id', 'text'],
    ['policy_version', 'integer'],
    ['tier', 'text'],
    ['status', 'text'],
    ['expires_at', 'timestamptz'],
    ['record_owner_id', 'text'],
    ['delegated_user_id', 'text'],
    ['created_at', 'timestamptz'],
  ],
  approval_items: [
    ['approval_id', 'uuid'],
    ['property', 'text'],
    ['change_id', 'uuid'],
    ['before_value', 'text'],
    ['proposed_value', 'text'],
    ['status', 'text'],
    ['approved_by', 'text[]'],
  ],
  changes: [
    ['id', 'uuid'],
    ['workspace_id', 'uuid'],
    ['change_set_id', 'uuid'],
    ['ordinal', 'integer'],
    ['record_id', 'text'],
    ['property', 'text'],
    ['before_value', 'text'],
    ['proposed_value', 'text'],
    ['tier', 'text'],
    ['decision', 'text'],
    ['reasons', 'text[]'],
    ['message', 'text'],
  ],
  change_records: [
    ['workspace_id', 'uuid'],
    ['change_set_id', 'uuid'],
    ['record_id', 'text'],
    ['evidence', 'json'],
  ],
  audit_events: [
    ['workspace_id', 'uuid'],
    ['seq', 'bigint'],
    ['occurred_at', 'timestamptz'],
    ['type', 'text'],
    ['actor', 'json text'],
    ['agent_id', 'uuid'],
    ['batch_id', 'text'],
    ['change_set_id', 'uuid'],
    ['object_type', 'text'],
    ['record_id', 'text'],
    ['property', 'text'],
    ['before', 'json text'],
    ['after', 'json text'],
    ['evidence', 'json text'],
    ['reasons', 'text[]'],
    ['policy_version', 'integer'],
    ['data', 'json text'],
    ['prev_hash', 'text'],
    ['hash', 'text'],
  ],
  audit_personal_data: [
    ['workspace_id', 'uuid'],
    ['seq', 'bigint'],
    ['occurred_at', 'timestamptz'],
    ['object_type', 'text'],
    ['record_id', 'text'],
    ['emails', 'text[]'],
    ['salt', 'text'],
    ['values', 'json'],
  ],
  record_property_changes: [
    ['workspace_id', 'uuid'],
    ['event_id', 'bigint'],
    ['object_type', 'text'],
    ['record_id', 'text'],
    ['property', 'text'],
    ['value', 'text'],
    ['occurred_at', 'timestamptz'],
    ['kind', 'text'],
    ['change_source', 'text'],
    ['source_id', 'text'],
    ['agent_id', 'uuid'],
    ['change_id', 'uuid'],
    ['data', 'json'],
    ['attempt_number', 'integer'],
  ],
} as const satisfies Record<string, readonly (readonly [string, ColumnType])[]>;
