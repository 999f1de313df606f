import fs from 'node:fs';
import path from 'node:path';
import { snapshotState, type StateSnapshot } from '../../../server/src/sandbox/hubspot/persistence.ts';
import { createHubSpotState, seedRecord } from '../../../server/src/sandbox/hubspot/state.ts';
import { seedSandbox } from '../../../server/src/sandbox/seed.ts';
import { sandboxStateFile } from '../../../server/src/sandbox/start-sandbox.ts';
import { startNodeProcess, urlFromLog, type NodeProcess } from '../../e2e/support/processes.ts';

/** What the drills share: a sandbox process seeded with extra contacts, waiting, and reading what HubSpot keeps. */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const random = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

/** Reads until `done` holds, or throws with the last value read. */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`not final within ${timeoutMs} ms: ${JSON.stringify(value).slice(0, 500)}`);
    await sleep(100);
  }
}

/** The HubSpot sandbox as its own process, with `extraContacts` more contacts than its demo seed. */
export async function startSeededSandbox(
  dataDir: string,
  extraContacts: number,
): Promise<{ sandbox: NodeProcess; url: string; recordIds: string[] }> {
  const state = createHubSpotState();
  seedSandbox(state);
  const recordIds = Array.from({ length: extraContacts }, (_, i) =>
    seedRecord(state, 'contacts', { properties: { email: `drill${i}@example.com` } }),
  );
  fs.mkdirSync(path.dirname(sandboxStateFile(dataDir)), { recursive: true });
  fs.writeFileSync(sandboxStateFile(dataDir), JSON.stringify(snapshotState(state)));
  const sandbox = startNodeProcess('server/src/sandbox/main.ts', {
    DATA_DIR: dataDir,
    SANDBOX_PORT: '0',
    SANDBOX_WEBHOOK_URL: undefined,
    SANDBOX_WEBHOOK_SECRET: undefined,
  });
  return { sandbox, url: await urlFromLog(sandbox, 'sandbox listening'), recordIds };
}

/** Stops the sandbox (it writes its state file) and reads every contact's revisions: the values each property got through the API. */
export async function apiWritesOnContacts(
  sandbox: NodeProcess,
  dataDir: string,
): Promise<(id: string, property: string) => string[]> {
  await sandbox.stop();
  const snapshot = JSON.parse(fs.readFileSync(sandboxStateFile(dataDir), 'utf8')) as StateSnapshot;
  const records = new Map(snapshot.objects.contacts.records.map((record) => [record.id, record]));
  return (id, property) =>
    (records.get(id)?.history[property] ?? [])
      .filter((entry) => entry.sourceType === 'API')
      .map((entry) => entry.value);
}
