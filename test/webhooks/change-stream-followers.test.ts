import { eq } from 'drizzle-orm';
import { followSandboxChangeStreams } from '../support/change-streams.ts';
import { sandboxSalesforceConnection, salesforceTestDeps } from '../support/salesforce.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeStreamFollowers } from '../../server/src/jobs/change-stream-followers.ts';
import { UI_ORIGIN } from '../../server/src/sandbox/salesforce/http-server.ts';
import { startSalesforceSandbox, type RunningSalesforceSandbox } from '../../server/src/sandbox/salesforce/start.ts';
import { addClient, newId, updateRecord } from '../../server/src/sandbox/salesforce/state.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import {
  changeWorkspace,
  createSalesforceWorkspace,
  removeWorkspace,
} from '../../server/src/services/governance/index.ts';
import type { Database } from '../../server/src/store/database.ts';
import { crmEventStreams, webhookEvents } from '../../server/src/store/schema.ts';
import { createTestDatabase } from '../support/database.ts';

// Issue 20, point 1: the server follows every Salesforce workspace's change stream as a job, one
// server at a time per workspace (its lease), another taking over when it stops, none once the
// workspace is removed. The local Salesforce publishes its record changes on its own Pub/Sub
// endpoint, read by the real client; the database is PGlite or Postgres.
let database: Database;
let sandbox: RunningSalesforceSandbox;
let deps: ServiceDeps;
let workspaceId: string;
const ADMIN = { type: 'admin', via: 'cli', name: 'test' } as const;
const CONTACT = newId('003', 1);

beforeAll(async () => {
  database = await createTestDatabase();
  sandbox = await startSalesforceSandbox({ port: 0 });
  deps = salesforceTestDeps(database.db);
  ({ id: workspaceId } = await connectOrg('Acme'));
});
afterAll(async () => {
  await sandbox.close();
  await database.close();
});

/** A workspace of the local Salesforce's org, through its sandbox app. */
const connectOrg = (name: string) =>
  createSalesforceWorkspace(deps, { name, connection: sandboxSalesforceConnection(sandbox.url) }, ADMIN);

const server = (holder: string): ChangeStreamFollowers =>
  followSandboxChangeStreams(deps, sandbox.pubSubEndpoint, holder);

const personEdits = (title: string) =>
  updateRecord(sandbox.state, 'Contact', CONTACT, { Title: title }, { userId: newId('005', 1), origin: UI_ORIGIN });

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await read();
    if (done(value)) return value;
    if (i > 600) throw new Error(`never happened; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
const storedTitles = () =>
  database.db
    .select({ value: webhookEvents.propertyValue })
    .from(webhookEvents)
    .where(eq(webhookEvents.workspaceId, workspaceId))
    .then((rows) => rows.map((row) => row.value));
const leaseHolder = () =>
  database.db
    .select({ holder: crmEventStreams.leaseHolder })
    .from(crmEventStreams)
    .where(eq(crmEventStreams.workspaceId, workspaceId))
    .then((rows) => rows[0]?.holder ?? null);

describe('the change-stream followers', () => {
  it('follow a Salesforce workspace on one server at a time, move to another when it stops, and stop for a removed workspace', async () => {
    const a = server('server-a');
    const b = server('server-b');
    const first = await until(leaseHolder, (holder) => holder !== null);
    personEdits('Edited once');
    expect(await until(storedTitles, (titles) => titles.length >= 1)).toEqual(['Edited once']);

    // The holder stops (its lease released); the other server takes the stream up where it was.
    await (first === 'server-a' ? a : b).stop();
    const second = await until(leaseHolder, (holder) => holder !== null && holder !== first);
    personEdits('Edited twice');
    expect(await until(storedTitles, (titles) => titles.length >= 2)).toEqual(['Edited once', 'Edited twice']);

    await removeWorkspace(deps, workspaceId, { force: false }, ADMIN);
    expect(await until(leaseHolder, (holder) => holder === null)).toBeNull();
    await (second === 'server-a' ? a : b).stop();
  }, 60_000);

  it('close a stream whose credentials were rotated and open it again with the new ones, missing no change', async () => {
    const rotated = { clientId: 'rotated-app', clientSecret: 'rotated-secret' };
    addClient(sandbox.state, rotated);
    ({ id: workspaceId } = await connectOrg('Rotated'));
    const signedInAs = (clientId: string) =>
      [...sandbox.state.sessions.values()].some((session) => session.clientId === clientId);
    const a = server('server-a');
    await until(leaseHolder, (holder) => holder !== null);
    personEdits('Before the rotation');
    await until(storedTitles, (titles) => titles.length >= 1);
    expect(signedInAs(rotated.clientId)).toBe(false);

    await changeWorkspace(
      deps,
      workspaceId,
      {
        crm: 'salesforce',
        salesforceConnection: { loginUrl: sandbox.url, auth: { kind: 'client_credentials', ...rotated } },
        verifyToken: false,
      },
      ADMIN,
    );
    await until(
      async () => signedInAs(rotated.clientId),
      (signedIn) => signedIn,
    );
    personEdits('After the rotation');
    // Resumed at the stored replay id: the first change is not stored twice, the second is stored.
    expect(await until(storedTitles, (titles) => titles.length >= 2)).toEqual([
      'Before the rotation',
      'After the rotation',
    ]);
    await a.stop();
  }, 60_000);
});
