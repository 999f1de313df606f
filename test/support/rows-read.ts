import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzleNodePostgres } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { Pool } from 'pg';
import type { Db } from '../../server/src/store/database.ts';
import * as schema from '../../server/src/store/schema.ts';
import type { TestDatabase } from './database.ts';

/**
 * The test's database as a second handle that counts the rows its statements hand back to the
 * server, on PGlite and on Postgres alike: what a service reads, whatever the clock says. The
 * statements go to the same database unchanged; only their answers are counted on the way back.
 */
export function countingRowsRead(database: TestDatabase): { db: Db; rowsRead(): number } {
  let read = 0;
  const counted = <T>(answer: Promise<T>): Promise<T> =>
    answer.then((result) => {
      read += (result as { rows?: unknown[] }).rows?.length ?? 0;
      return result;
    });
  // Every statement, in a transaction or not, goes through the driver's `query`.
  const counting = <C extends object>(client: C, wrapped: Partial<Record<PropertyKey, unknown>>): C =>
    new Proxy(client, {
      get: (target, key) => {
        if (key in wrapped) return wrapped[key];
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const queries = <C extends { query: (...args: any[]) => Promise<unknown> }>(client: C) => ({
    query: (...args: unknown[]) => counted(client.query(...args)),
  });
  const client = (database.db as unknown as { $client: PGlite | Pool }).$client;
  const db =
    database.kind === 'pglite'
      ? drizzlePglite({
          client: counting(client as PGlite, {
            ...queries(client as PGlite),
            transaction: <T>(run: (tx: never) => Promise<T>) =>
              (client as PGlite).transaction((tx) => run(counting(tx, queries(tx)) as never)),
          }),
          schema,
        })
      : drizzleNodePostgres({
          client: counting(client as Pool, {
            ...queries(client as Pool),
            connect: async () => {
              const connection = await (client as Pool).connect();
              return counting(connection, queries(connection));
            },
          }),
          schema,
        });
  return { db: db as unknown as Db, rowsRead: () => read };
}
