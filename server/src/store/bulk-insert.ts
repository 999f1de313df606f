import { sql, type SQL } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';

/**
 * Inserts many rows with few statements, each unnesting one array parameter per column. The query
 * builder's multi-row VALUES walks every value (it cost more than Postgres itself at 10,000
 * rows) and hits the 65,535-parameter limit; unnest of typed arrays also parses about twice as
 * fast in Postgres as jsonb_to_recordset. JSON columns are the exception: they travel together
 * as one jsonb document (an array holding each row's values), which Postgres parses once, where
 * a jsonb[] literal made node-postgres escape and Postgres unescape and parse every value apart:
 * half the time for 2,000 audit events. Table and column names come from the constants below.
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

interface Chunk {
  rows: readonly Record<string, unknown>[];
  /** Each row's JSON columns serialized as one array, in the table's column order. */
  json: string[];
}

function* chunks(table: BulkTable, rows: readonly Record<string, unknown>[]): Generator<Chunk> {
  const json = jsonColumns(table);
  if (json.length === 0) {
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) yield { rows: rows.slice(i, i + ROWS_PER_STATEMENT), json: [] };
    return;
  }
  let start = 0;
  let documents: string[] = [];
  let chars = 0;
  for (let index = 0; index < rows.length; index++) {
    const document = rowJson(json, rows[index]!);
    if (index > start && (index - start === ROWS_PER_STATEMENT || chars + document.length > JSON_CHARS_PER_STATEMENT)) {
      yield { rows: rows.slice(start, index), json: documents };
      start = index;
      documents = [];
      chars = 0;
    }
    documents.push(document);
    chars += document.length;
  }
  if (start < rows.length) yield { rows: rows.slice(start), json: documents };
}

/**
 * The same single statement, skipping rows whose key is already stored (a retried webhook
 * delivery); returns how many rows were new. Rows are not chunked: callers send at most a
 * request's worth.
 */
export async function insertRowsSkippingDuplicates(tx: Db | Tx, table: BulkTable, rows: readonly Record<string, unknown>[]): Promise<number> {
  if (rows.length === 0) return 0;
  const json = jsonColumns(table);
  const chunk = { rows, json: json.length === 0 ? [] : rows.map((row) => rowJson(json, row)) };
  const result = await tx.execute(unnestInsert(table, chunk, sql` on conflict do nothing returning 1`));
  // node-postgres and PGlite both answer with `rows`.
  return (result as unknown as { rows: unknown[] }).rows.length;
}

function unnestInsert(table: BulkTable, chunk: Chunk, tail: SQL): SQL {
  const columns: readonly (readonly [string, ColumnType])[] = COLUMNS[table];
  const plain = columns.filter((column): column is readonly [string, ArrayColumnType] => column[1] !== 'jsonb');
  const json = jsonColumns(table);
  const values = new Map(plain.map(([name, type]) => [name, chunk.rows.map((row) => toParam(row[name], type))]));
  // A column with one value in every row (the workspace, the change set) travels once rather than
  // once per row; the first column always stays an array, so there is one to unnest.
  const shared = new Set(plain.slice(1).filter(([name]) => values.get(name)!.every((value, _, all) => value === all[0])).map(([name]) => name));
  const varying = plain.filter(([name]) => !shared.has(name));
  // Each array travels as the literal we write; both drivers pass a string through as it is.
  const arrays = varying.map(([name, type]) => sql`${sql.param(arrayLiteral(values.get(name)!))}::${sql.raw(ARRAY_TYPE[type])}`);
  const selected = columns.map(([name, type]) => {
    if (type === 'jsonb') return sql.raw(`nullif(j.doc -> ${json.indexOf(name)}, 'null'::jsonb)`);
    const value = shared.has(name) ? sql`${sql.param(values.get(name)![0] ?? null)}::${sql.raw(SCALAR_TYPE[type])}` : sql.raw(`x.${name}`);
    return type === 'text[]' ? sql`string_to_array(${value}, ',')` : value;
  });
  const names = sql.raw(columns.map(([name]) => name).join(', '));
  const varyingNames = varying.map(([name]) => name).join(', ');
  if (json.length === 0) return sql`insert into ${sql.raw(table)} (${names}) select ${sql.join(selected, sql`, `)} from unnest(${sql.join(arrays, sql`, `)}) as x(${sql.raw(varyingNames)})${tail}`;
  const document = `[${chunk.json.join(',')}]`;
  return sql`insert into ${sql.raw(table)} (${names}) select ${sql.join(selected, sql`, `)}
    from unnest(${sql.join(arrays, sql`, `)}) with ordinality as x(${sql.raw(varyingNames)}, ordinal)
    join jsonb_array_elements(${document}::jsonb) with ordinality as j(doc, ordinal) using (ordinal)${tail}`;
}

function jsonColumns(table: BulkTable): string[] {
  return COLUMNS[table].filter(([, type]) => type === 'jsonb').map(([name]) => name);
}

function rowJson(json: readonly string[], row: Record<string, unknown>): string {
  return JSON.stringify(json.map((name) => row[name] ?? null));
}

type ColumnType = 'uuid' | 'text' | 'integer' | 'bigint' | 'timestamptz' | 'jsonb' | 'text[]';
type ArrayColumnType = Exclude<ColumnType, 'jsonb'>;

const ARRAY_TYPE: Record<ArrayColumnType, string> = {
  uuid: 'uuid[]',
  text: 'text[]',
  integer: 'integer[]',
  bigint: 'bigint[]',
  timestamptz: 'timestamptz[]',
  // Arrays of arrays must be rectangular in Postgres, so a text[] column travels as one comma-joined
  // string per row; it only carries reason codes, which never contain a comma.
  'text[]': 'text[]',
};

/** The type of one value of each kind of column; a text[] column's value is its comma-joined string. */
const SCALAR_TYPE: Record<ArrayColumnType, string> = {
  uuid: 'uuid',
  text: 'text',
  integer: 'integer',
  bigint: 'bigint',
  timestamptz: 'timestamptz',
  'text[]': 'text',
};

function toParam(value: unknown, type: ArrayColumnType): string | number | null {
  if (value === null || value === undefined) return null;
  if (type === 'text[]') return (value as string[]).join(',');
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
function arrayLiteral(values: readonly (string | number | null)[]): string {
  const json = JSON.stringify(values);
  if (!JSON_ONLY_ESCAPE.test(json)) return `{${json.slice(1, -1)}}`;
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
    ['evidence', 'jsonb'],
  ],
  audit_events: [
    ['workspace_id', 'uuid'],
    ['seq', 'bigint'],
    ['occurred_at', 'timestamptz'],
    ['type', 'text'],
    ['actor', 'jsonb'],
    ['agent_id', 'uuid'],
    ['batch_id', 'text'],
    ['change_set_id', 'uuid'],
    ['object_type', 'text'],
    ['record_id', 'text'],
    ['property', 'text'],
    ['before', 'jsonb'],
    ['after', 'jsonb'],
    ['evidence', 'jsonb'],
    ['reasons', 'text[]'],
    ['policy_version', 'integer'],
    ['data', 'jsonb'],
    ['prev_hash', 'text'],
    ['hash', 'text'],
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
    ['data', 'jsonb'],
    ['attempt_number', 'integer'],
  ],
} as const satisfies Record<string, readonly (readonly [string, ColumnType])[]>;
