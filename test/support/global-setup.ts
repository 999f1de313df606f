import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../server/src/store/database.ts';
import { withAdmin, withDatabaseName } from './postgres-admin.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A dumped PGlite data folder, already migrated, that each test file's database starts from. */
    pgliteTemplateFile: string;
    /** On Postgres: a migrated database each test file's database is created from (`CREATE DATABASE … TEMPLATE`). */
    postgresTemplate: string;
    /** On Postgres: the start of every test database's name in this run, so the teardown finds them all. */
    postgresTestPrefix: string;
  }
}

/**
 * Migrates one database for the whole run and lets every test file clone it: a fresh PGlite spends
 * about 3 s in initdb and 1 s migrating, a copy of a dumped data folder opens in under one.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const run = randomBytes(6).toString('hex');
    const name = `ag_template_${run}`;
    const prefix = `ag_test_${run}_`;
    await withAdmin(serverUrl, (client) => client.query(`create database ${name}`));
    const template = await openDatabase({ databaseUrl: withDatabaseName(serverUrl, name), holder: 'test template' });
    await template.migrate();
    await template.close();
    project.provide('postgresTemplate', name);
    project.provide('postgresTestPrefix', prefix);
    project.provide('pgliteTemplateFile', '');
    return async () => {
      // Workers keep their test databases for the next test (test/support/database.ts); they go here.
      await withAdmin(serverUrl, async (client) => {
        const kept = await client.query<{ datname: string }>(
          'select datname from pg_database where starts_with(datname, $1)',
          [prefix],
        );
        for (const { datname } of kept.rows) await client.query(`drop database if exists ${datname} with (force)`);
        await client.query(`drop database if exists ${name} with (force)`);
      });
    };
  }
  const template = await openDatabase({ holder: 'test template' });
  await template.migrate();
  // drizzle keeps the PGlite client it wraps; only here, for its dump, is it reached for.
  const dump = await (template.db as unknown as { $client: PGlite }).$client.dumpDataDir('none');
  await template.close();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ag-test-template-')), 'pglite.tar');
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplateFile', file);
  project.provide('postgresTemplate', '');
  project.provide('postgresTestPrefix', '');
  return async () => fs.rmSync(path.dirname(file), { recursive: true, force: true });
}
