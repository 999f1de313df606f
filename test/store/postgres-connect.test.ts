import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/src/store/database.ts';
import { withDatabaseName } from '../support/postgres-admin.ts';

const url = process.env.TEST_DATABASE_URL;

// An operator's DATABASE_URL that reaches no database: the start says what went wrong, as Postgres
// or the socket put it, and what to do about it, which neither said.
describe('a DATABASE_URL that reaches no database', () => {
  it('says to start Postgres or fix the host and port when nothing listens there', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    await expect(
      openDatabase({ databaseUrl: `postgres://ag@127.0.0.1:${port}/ag`, holder: 'the test' }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(
        /^Cannot connect to the Postgres database in DATABASE_URL: .*ECONNREFUSED.*\. Start Postgres there, or fix the host and port in DATABASE_URL\.$/,
      ),
    });
  });

  it.skipIf(!url)('says to create the database, naming it, when the server has no such database', async () => {
    const database = `ag_missing_${randomBytes(4).toString('hex')}`;
    await expect(
      openDatabase({ databaseUrl: withDatabaseName(url!, database), holder: 'the test' }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining(
        `database "${database}" does not exist. Create it (createdb ${database}, as a role that may), or name an existing database in DATABASE_URL.`,
      ),
    });
  });
});
