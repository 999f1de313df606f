import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../server/src/cli/run-cli.ts';
import { collector } from '../support/cli.ts';
import { emptyDataFolder } from '../support/data-folders.ts';
import { withAdmin, withDatabaseName } from '../support/postgres-admin.ts';

const url = process.env.TEST_DATABASE_URL;

// A deploy step runs `migrate` with the database's URL and often nothing else: with Postgres and
// SECRETS_KEY unset it migrated, then failed for want of the key it never needed.
describe.skipIf(!url)('agent-governance migrate on Postgres', () => {
  it('migrates a new database without SECRETS_KEY, and again with nothing left to do', async () => {
    const database = `ag_migrate_${randomBytes(4).toString('hex')}`;
    await withAdmin(url!, (admin) => admin.query(`create database ${database}`));
    const data = emptyDataFolder('ag-migrate-');
    try {
      for (let run = 0; run < 2; run++) {
        const stdout = collector();
        const stderr = collector();
        const code = await runCli(['migrate', '--json'], {
          stdout: stdout.stream,
          stderr: stderr.stream,
          env: { DATABASE_URL: withDatabaseName(url!, database), DATA_DIR: data.dir },
        });
        expect({ code, stdout: stdout.text(), stderr: stderr.text() }).toEqual({
          code: 0,
          stdout: `${JSON.stringify({ migrated: true, database: 'postgres' })}\n`,
          stderr: '',
        });
      }
    } finally {
      data.remove();
      await withAdmin(url!, (admin) => admin.query(`drop database ${database} with (force)`));
    }
  }, 60_000);
});
