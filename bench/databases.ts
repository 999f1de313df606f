import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../server/src/store/database.ts';

const DEFAULT_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';

/** In-memory PGlite, or a fresh database on the Postgres server (dropped on close); undefined if none is reachable. */
export async function openBenchDatabase(kind: 'pglite' | 'postgres'): Promise<Database | undefined> {
  if (kind === 'pglite') {
    // On disk, as `npm start` runs it: an in-memory PGlite keeps its files and WAL in the JS heap.
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-'));
    const database = await openDatabase({ holder: 'bench', dataDir });
    await database.migrate();
    return {
      ...database,
      close: async () => {
        await database.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const serverUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_POSTGRES;
  const name = `ag_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  try {
    await admin.connect();
    await admin.query(`create database ${name}`);
  } catch {
    return undefined;
  } finally {
    await admin.end().catch(() => {});
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), holder: 'bench' });
  await database.migrate();
  return {
    ...database,
    close: async () => {
      await database.close();
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}
