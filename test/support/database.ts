import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { type SQL, sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../server/src/store/database.ts';
import * as schema from '../../server/src/store/schema.ts';
import { withAdmin, withDatabaseName } from './postgres-admin.ts';

export type TestDatabase = Database & { url: string | undefined };

/**
 * A migrated database with every table empty: in-memory PGlite by default, or a database on the
 * Postgres server in TEST_DATABASE_URL. Each starts as a copy of the database the global setup
 * migrated once, and is kept by the worker when the test closes it: `close` empties its tables and
 * hands it to the next test, which costs a tenth of opening a copy (PGlite: ~0.1 s against ~1.5 s).
 * A test that leaves the schema changed (a trigger switched off, a function added) has its database
 * thrown away instead. Queries a test still makes after `close` fail, as on a closed database.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const database = spares.pop() ?? (await openSpare());
  return database.lease();
}

/** The dumped PGlite data folder the global setup migrated, read once per worker. */
export function pgliteTemplate(): Blob {
  template ??= new Blob([fs.readFileSync(inject('pgliteTemplateFile'))]);
  return template;
}

let template: Blob | undefined;

interface Spare {
  lease(): Promise<TestDatabase>;
}

/** More than this many idle databases in one worker are closed rather than kept. */
const MAX_SPARES = 3;
const spares: Spare[] = [];

async function openSpare(): Promise<Spare> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  return serverUrl ? openPostgresSpare(serverUrl) : openPgliteSpare();
}

async function openPgliteSpare(): Promise<Spare> {
  const database = await openDatabase({ holder: 'test', template: pgliteTemplate() });
  await database.migrate();
  const migrated = await migratedSchema(database);
  // drizzle keeps the PGlite client it wraps; each lease gets its own revocable view of it.
  const client = (database.db as unknown as { $client: PGlite }).$client;
  const spare: Spare = {
    lease: async () => {
      const view = Proxy.revocable(client, {
        get: (target, key) => {
          const value = Reflect.get(target, key, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      return {
        db: drizzlePglite({ client: view.proxy, schema }),
        kind: 'pglite',
        url: undefined,
        migrate: () => database.migrate(),
        close: once(async () => {
          view.revoke();
          // Session state a test may have left: settings, advisory locks, prepared statements.
          await client.exec('discard all');
          if (await reusable(database, migrated)) keep(spare, () => database.close());
          else await database.close();
        }),
      };
    },
  };
  return spare;
}

async function openPostgresSpare(serverUrl: string): Promise<Spare> {
  const name = `${inject('postgresTestPrefix')}${randomBytes(6).toString('hex')}`;
  await withAdmin(serverUrl, (client) =>
    client.query(`create database ${name} template ${inject('postgresTemplate')}`),
  );
  const url = withDatabaseName(serverUrl, name);
  const drop = () => withAdmin(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
  let migrated: MigratedSchema | undefined;
  const spare: Spare = {
    lease: async () => {
      // A pool per lease: ending it on close makes a test's late queries fail and ends its sessions.
      const database = await openDatabase({ databaseUrl: url, holder: 'test' });
      if (migrated === undefined) {
        await database.migrate();
        migrated = await migratedSchema(database);
      }
      const kept = migrated;
      return {
        ...database,
        url,
        close: once(async () => {
          const ok = await reusable(database, kept).catch(() => false);
          await database.close();
          if (ok) keep(spare, drop);
          else await drop();
        }),
      };
    },
  };
  return spare;
}

function keep(spare: Spare, discard: () => Promise<unknown>): void {
  if (spares.length < MAX_SPARES) spares.push(spare);
  else void discard();
}

interface MigratedSchema {
  shape: string;
  /** Every table, as one list for TRUNCATE: the same for as long as the shape is. */
  tables: string;
}

async function migratedSchema(database: Database): Promise<MigratedSchema> {
  const tables = await firstValue(
    database,
    sql`select string_agg(format('%I', tablename), ', ') as value from pg_tables where schemaname = 'public'`,
  );
  if (!tables) throw new Error('The migrated test database has no tables.');
  return { shape: await schemaShape(database), tables };
}

/** Empties every table when the schema is as migrated; false when it is not (or cannot be emptied). */
async function reusable(database: Database, { shape, tables }: MigratedSchema): Promise<boolean> {
  if ((await schemaShape(database)) !== shape) return false;
  await database.db.transaction(async (tx) => {
    // Replica mode skips the audit log's append-only triggers, as a database owner could.
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(sql.raw(`truncate ${tables} restart identity cascade`));
  });
  return true;
}

/** A digest of the tables, columns, indexes, triggers (and whether each is on) and functions. */
async function schemaShape(database: Database): Promise<string> {
  const shape = await firstValue(
    database,
    sql`
    select md5(string_agg(item, ',' order by item)) as value from (
      select 'rel:' || c.relname || ':' || c.relkind::text || ':' || coalesce(array_to_string(c.reloptions, ' '), '') as item
        from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'
      union all
      select 'col:' || a.attrelid::regclass::text || '.' || a.attname || ':' || a.atttypid::text || ':' || a.attnotnull::text
        from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and a.attnum > 0 and not a.attisdropped
      union all
      select 'trigger:' || t.tgrelid::regclass::text || '.' || t.tgname || ':' || t.tgenabled::text
        from pg_trigger t where not t.tgisinternal
      union all
      select 'function:' || p.proname || ':' || md5(p.prosrc)
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'
    ) items`,
  );
  return shape ?? '';
}

async function firstValue(database: Database, query: SQL): Promise<string | undefined> {
  const result = await database.db.execute(query);
  return (result as unknown as { rows: { value: string | null }[] }).rows[0]?.value ?? undefined;
}

function once(work: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= work();
    return done;
  };
}
