import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../server/src/store/database.ts';
import { withAdmin, withDatabaseName } from './postgres-admin.ts';

/**
 * A fresh, migrated database for one test file: in-memory PGlite by default, or a new
 * database on the Postgres server in TEST_DATABASE_URL (dropped again by `close`). Both start as a
 * copy of the database the global setup migrated once; `migrate` then finds nothing left to do.
 */
export async function createTestDatabase(): Promise<Database & { url: string | undefined }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    const database = await openDatabase({ holder: 'test', template: pgliteTemplate() });
    await database.migrate();
    return { ...database, url: undefined };
  }
  const name = `ag_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(serverUrl, (client) =>
    client.query(`create database ${name} template ${inject('postgresTemplate')}`),
  );
  const url = withDatabaseName(serverUrl, name);
  const database = await openDatabase({ databaseUrl: url, holder: 'test' });
  await database.migrate();
  return {
    ...database,
    url,
    close: async () => {
      await database.close();
      await withAdmin(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

let template: Blob | undefined;

/** The dumped PGlite data folder the global setup migrated, read once per test file. */
export function pgliteTemplate(): Blob {
  template ??= new Blob([fs.readFileSync(inject('pgliteTemplateFile'))]);
  return template;
}
