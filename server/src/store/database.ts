import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { parseJson } from '../../../shared/json-text.ts';
import { dataFolderProblem, makeDataFolder } from '../data-folder.ts';
import { AppError, databaseErrorIn } from '../errors.ts';
import { acquireDataDirLock } from './data-dir-lock.ts';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Applies the checked-in migrations; safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

const inProcess = new WeakSet<Db>();

/** Whether the database is PGlite, on this process's thread: a query there costs this process's CPU, and queries wait for each other. */
export function isInProcess(db: Db): boolean {
  return inProcess.has(db);
}

export const MIGRATIONS_FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../migrations');

/**
 * Postgres when a URL is given, else PGlite persisted in `dataDir` (or in memory for tests).
 * PGlite is one process's database: the data folder is locked while it is open, so a second
 * process is told plainly instead of corrupting it.
 */
export async function openDatabase(options: {
  databaseUrl?: string | undefined;
  dataDir?: string;
  holder: string;
  /** PGlite only: start from a copy of this dumped data folder (the tests clone one migrated database per file). */
  template?: Blob;
  /** PGlite only: its buffer pool, in MB (16 unless given); see openPglite. */
  sharedBuffersMb?: number;
}): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl);
  return openPglite(options.dataDir, options.holder, options.template, options.sharedBuffersMb ?? 16);
}

/**
 * json and jsonb values are read with parseJson, not the drivers' JSON.parse, whose V8 bug could
 * read a stored key wrongly and make an intact audit event look altered (shared/json-text.ts).
 */
const JSON_TYPE_OIDS = [114, 3802];

// Each driver is imported only when used: loading both made a Postgres server carry PGlite's
// module graph (and its start-up garbage, tens of MB of peak memory) for nothing.
async function openPostgres(url: string): Promise<Database> {
  const { default: pg } = await import('pg');
  const { drizzle: drizzlePostgres } = await import('drizzle-orm/node-postgres');
  const { migrate: migratePostgres } = await import('drizzle-orm/node-postgres/migrator');
  // Pipelined: a statement sent without waiting (InFlight) goes on the wire at once rather than
  // after the previous one's answer, so Postgres works through a change set's inserts back to back.
  const pool = new pg.Pool({ connectionString: url, max: 10, pipeline: true });
  // Process-wide, because drizzle gives each query its own type table that falls back to pg's global one.
  for (const oid of JSON_TYPE_OIDS) pg.types.setTypeParser(oid, parseJson);
  // An idle client whose backend goes away (restart, failover) emits here; the pool drops it and
  // the next query opens a new one. Without a listener the process would crash instead.
  pool.on('error', () => {});
  try {
    await pool.query('select 1');
  } catch (cause) {
    await pool.end();
    throw new AppError(
      'CONFIG_INVALID',
      `Cannot connect to the Postgres database in DATABASE_URL: ${(cause as Error).message}. ${connectAdvice(cause, url)}`,
      { cause },
    );
  }
  const db = drizzlePostgres({ client: pool, schema });
  return {
    db,
    kind: 'postgres',
    migrate: async () => {
      // Several servers may start at once; one migrates while the others wait on the lock.
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock(7236911)');
        await migratePostgres(drizzlePostgres({ client, schema }), { migrationsFolder: MIGRATIONS_FOLDER });
      } catch (error) {
        // Postgres's insufficient_privilege: the operator has a grant to give, which SQLSTATE 42501 alone does not say.
        if (databaseErrorIn(error)?.code !== '42501') throw error;
        const { username, pathname } = new URL(url);
        const role = decodeURIComponent(username) || 'the role';
        const database = decodeURIComponent(pathname.slice(1)) || 'the database';
        throw new AppError(
          'CONFIG_INVALID',
          `The role in DATABASE_URL may not create the schemas and tables Agent Governance keeps (Postgres: permission denied). ` +
            `Make it the database's owner: ALTER DATABASE "${database}" OWNER TO "${role}", run by a superuser.`,
          { cause: error },
        );
      } finally {
        await client.query('select pg_advisory_unlock(7236911)');
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** What an operator does about a refused connection: Postgres's and the socket's messages say only what went wrong. */
function connectAdvice(cause: unknown, url: string): string {
  const code = databaseErrorIn(cause)?.code ?? (cause as NodeJS.ErrnoException).code;
  const database = decodeURIComponent(new URL(url).pathname.slice(1));
  if (code === '3D000')
    return `Create it (createdb ${database || 'NAME'}, as a role that may), or name an existing database in DATABASE_URL.`;
  if (code === '28P01' || code === '28000') return 'Fix the user and password in DATABASE_URL.';
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ETIMEDOUT')
    return 'Start Postgres there, or fix the host and port in DATABASE_URL.';
  return 'Check DATABASE_URL.';
}

async function openPglite(
  dataDir: string | undefined,
  holder: string,
  template: Blob | undefined,
  sharedBuffersMb: number,
): Promise<Database> {
  keepWebAssemblyOnItsBaselineCompiler();
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
  const { migrate: migratePglite } = await import('drizzle-orm/pglite/migrator');
  let release = () => {};
  if (dataDir) {
    makeDataFolder(dataDir);
    try {
      release = acquireDataDirLock(dataDir, holder);
    } catch (error) {
      throw dataFolderProblem(dataDir, error);
    }
  }
  // One options object: PGlite reads its second argument only when the first is a path, so an
  // in-memory database given (undefined, options) silently ran initdb and dropped the template.
  const client = new PGlite({
    ...(dataDir ? { dataDir: path.join(dataDir, 'pglite') } : {}),
    // Postgres's default 128 MB buffer pool fills up in our process's memory as the data grows; the
    // operating system's file cache still holds the data folder behind a smaller pool. PGlite runs
    // no checkpointer, so WAL segments are seldom recycled: each new one was first written whole
    // with zeros, 16 MB of writes on this thread (a change set of 1,000 × 10 wrote 27 MB for 10 MB
    // of WAL). The pool is touched whole as data is read, so its size is resident memory of this
    // process: a command that reads a large log once gains nothing from 16 MB (audit-commands.ts).
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffersMb}MB`, '-c', 'wal_init_zero=off'],
    ...(template ? { loadDataDir: template } : {}),
    parsers: Object.fromEntries(JSON_TYPE_OIDS.map((oid) => [oid, parseJson])),
  });
  try {
    await client.waitReady;
  } catch (cause) {
    release();
    if (!dataDir) throw cause;
    // PGlite says only that it "failed to initialize": the operator needs the folder and the way out.
    throw new AppError(
      'CONFIG_INVALID',
      `The PGlite database in ${path.join(dataDir, 'pglite')} cannot be opened (${(cause as Error).message}): it is damaged or not a PGlite database. ` +
        'Restore DATA_DIR from a backup, or set DATA_DIR to another folder to start afresh.',
      { cause },
    );
  }
  const db = drizzlePglite({ client, schema });
  inProcess.add(db);
  return {
    db,
    kind: 'pglite',
    migrate: () => migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    close: async () => {
      await client.close();
      release();
    },
  };
}

/**
 * PGlite is Postgres compiled to 9 MB of WebAssembly. V8 runs it with its baseline compiler
 * (Liftoff) and recompiles hot functions with its optimizing one (TurboFan) in the background;
 * for Postgres's largest functions that recompilation peaks at hundreds of MB (a bare open and
 * `select 1`: 140 MB of memory without it, 630 MB with it), work that a process also finishes at
 * exit. Baseline code keeps the change-set benchmark's throughput. Process-wide, so set before
 * PGlite compiles; the process's only other WebAssembly is small (Node's own parsers).
 */
function keepWebAssemblyOnItsBaselineCompiler(): void {
  v8.setFlagsFromString('--no-wasm-tier-up');
  v8.setFlagsFromString('--no-wasm-dynamic-tiering');
}
