import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/src/store/database.ts';
import { withAdmin, withDatabaseName } from '../support/postgres-admin.ts';

const url = process.env.TEST_DATABASE_URL;

// An operator's DATABASE_URL names a role that may connect but not create tables (Postgres 15's
// default for a role that does not own the database): the start says which grant fixes it.
describe.skipIf(!url)('a DATABASE_URL whose role may not create tables', () => {
  it('stops the migration with a sentence naming the statement that gives the role what it needs', async () => {
    const suffix = randomBytes(4).toString('hex');
    const database = `ag_noperm_${suffix}`;
    const role = `ag_limited_${suffix}`;
    await withAdmin(url!, async (admin) => {
      await admin.query(`create database ${database}`);
      await admin.query(`create role ${role} login`);
    });
    await withAdmin(withDatabaseName(url!, database), (admin) =>
      admin.query('revoke create on schema public from public'),
    );
    const limited = new URL(withDatabaseName(url!, database));
    limited.username = role;
    limited.password = '';
    const opened = await openDatabase({ databaseUrl: limited.toString(), holder: 'the test' });
    try {
      await expect(opened.migrate()).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining(`ALTER DATABASE "${database}" OWNER TO "${role}"`),
      });
    } finally {
      await opened.close();
      await withAdmin(url!, async (admin) => {
        await admin.query(`drop database ${database}`);
        await admin.query(`drop role ${role}`);
      });
    }
  });
});
