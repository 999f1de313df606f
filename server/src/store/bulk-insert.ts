import { sql, type SQL } from 'drizzle-orm';
import type { Tx } from './database.ts';

/**
 * Inserts many rows with one statement that unnests one array parameter per column. The query
 * builder's multi-row VALUES walks every value (it cost more than Postgres itself at 10,000
 * rows) and hits the 65,535-parameter limit; unnest of typed arrays also parses about twice as
 * fast in Postgres as jsonb_to_recordset. Table and column names come from the constants below.
 */
export async function insertRows(tx: Tx, table: BulkTable, rows: readonly Record<string, unknown>[]): Promise<void> {
  const columns = COLUMNS[table];
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const arrays: SQL[] = columns.map(([name, type]) => sql`${sql.param(chunk.map((row) => toParam(row[name], type)))}::${sql.raw(ARRAY_TYPE[type])}`);
    const selected = columns.map(([name, type]) => sql.raw(type === 'text[]' ? `string_to_array(x.${name}, ',')` : `x.${name}`));
    await tx.execute(
      sql`insert into ${sql.raw(table)} (${sql.raw(columns.map(([name]) => name).join(', '))}) select ${sql.join(selected, sql`, `)} from unnest(${sql.join(arrays, sql`, `)}) as x(${sql.raw(columns.map(([name]) => name).join(', '))})`,
    );
  }
}

const CHUNK = 10_000;

type ColumnType = 'uuid' | 'text' | 'integer' | 'bigint' | 'timestamptz' | 'jsonb' | 'text[]';

const ARRAY_TYPE: Record<ColumnType, string> = {
  uuid: 'uuid[]',
  text: 'text[]',
  integer: 'integer[]',
  bigint: 'bigint[]',
  timestamptz: 'timestamptz[]',
  jsonb: 'jsonb[]',
  // Arrays of arrays must be rectangular in Postgres, so a text[] column travels as one comma-joined
  // string per row; it only carries reason codes, which never contain a comma.
  'text[]': 'text[]',
};

function toParam(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'jsonb') return JSON.stringify(value);
  if (type === 'text[]') return (value as string[]).join(',');
  return value;
}

type BulkTable = keyof typeof COLUMNS;

const COLUMNS = {
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
} as const satisfies Record<string, readonly (readonly [string, ColumnType])[]>;
