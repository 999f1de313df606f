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
    /**
     * A server's data folder (`DATA_DIR`) holding a migrated PGlite, closed: tests that start servers
     * and CLIs as processes copy it rather than have each run initdb (test/support/data-folders.ts).
     */
    pgliteDataFolder: string;
    /** On Postgres: a migrated database each test file's database is created from (`CREATE DATABASE … TEMPLATE`). */
    postgresTemplate: string;
    /** On Postgres: the start of every test database's name in this run, so the teardown finds them all. */
    postgresTestPrefix: string;
  }
}

/**
 * Migrates one database for the whole run and lets every test file clone it: a fresh PGlite spends
 * about 3 s of CPU in initdb and 1 s migrating (8 s of wall time on a loaded machine), a copy of a
 * dumped data folder opens in under one. The same PGlite, closed in its data folder, is what the
 * servers and CLIs the tests start as processes copy.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-test-template-'));
  const removeFolder = async () => fs.rmSync(folder, { recursive: true, force: true });
  // Processes the tests start use PGlite in a data folder whatever TEST_DATABASE_URL says.
  const dataFolder = path.join(folder, 'data');
  const template = await openDatabase({ dataDir: dataFolder, holder: 'test template' });
  await template.migrate();
  project.provide('pgliteDataFolder', dataFolder);
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    await template.close();
    const run = randomBytes(6).toString('hex');
    const name = `ag_template_${run}`;
    const prefix = `ag_test_${run}_`;
    await withAdmin(serverUrl, (client) => client.query(`create database ${name}`));
    const postgresTemplate = await openDatabase({
      databaseUrl: withDatabaseName(serverUrl, name),
      holder: 'test template',
    });
    await postgresTemplate.migrate();
    await postgresTemplate.close();
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
      await removeFolder();
    };
  }
  // drizzle keeps the PGlite client it wraps; only here, for its dump, is it reached for.
  const dump = await (template.db as unknown as { $client: PGlite }).$client.dumpDataDir('none');
  await template.close();
  const file = path.join(folder, 'pglite.tar');
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplateFile', file);
  project.provide('postgresTemplate', '');
  project.provide('postgresTestPrefix', '');
  return removeFolder;
}
