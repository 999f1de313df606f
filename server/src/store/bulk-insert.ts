import { sql } from 'drizzle-orm';
import type { Tx } from './database.ts';

/**
 * Inserts many rows as one JSON parameter expanded by jsonb_to_recordset. Building a
 * multi-row VALUES statement through the query builder costs more than the database's own
 * work at 10,000 rows (it walks every value), and hits the 65,535-parameter limit besides.
 * Table and column names come from the constants below, never from input.
 */
export async function insertJsonRows(tx: Tx, table: BulkTable, rows: readonly Record<string, unknown>[]): Promise<void> {
  const columns = COLUMNS[table];
  const names = sql.raw(columns.map(([name]) => name).join(', '));
  const types = sql.raw(columns.map(([name, type]) => `${name} ${type}`).join(', '));
  for (let i = 0; i < rows.length; i += CHUNK) {
    const json = JSON.stringify(rows.slice(i, i + CHUNK));
    await tx.execute(sql`insert into ${sql.raw(table)} (${names}) select ${names} from jsonb_to_recordset(${json}::jsonb) as x(${types})`);
  }
}

const CHUNK = 5_000;

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
} as const;
