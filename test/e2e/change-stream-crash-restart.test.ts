import { afterAll, describe, expect, it } from 'vitest';
import { startPubSubSandbox, type PubSubSandbox, UI_CLIENT } from '../../server/src/sandbox/salesforce/pubsub/index.ts';
import { openDatabase } from '../../server/src/store/database.ts';
import { webhookEvents } from '../../server/src/store/schema.ts';
import { type NodeProcess, startNodeProcess } from './support/processes.ts';
import { migratedDataFolder } from '../support/data-folders.ts';

// Issue 20, point 5: the replay id is stored with the events it follows, so a follower killed
// mid-stream and started again resumes after the last stored event: none missed, none twice.
describe('a change-stream follower killed with -9 and started again', () => {
  const ORG = '00D000000000001EAA';
  const TOKEN = `${ORG}!e2e-token`;
  const data = migratedDataFolder('ag-e2e-change-stream-');
  const processes: NodeProcess[] = [];
  let sandbox: PubSubSandbox | undefined;
  afterAll(async () => {
    await Promise.all(processes.map((process) => process.stop()));
    await sandbox?.close();
    data.remove();
  });

  const follower = () => {
    const started = startNodeProcess('test/e2e/support/change-stream-follower.ts', { DATABASE_URL: undefined }, [
      data.dir,
      sandbox?.endpoint ?? '',
      TOKEN,
      ORG,
    ]);
    processes.push(started);
    return started;
  };
  const publish = (from: number, to: number) => {
    for (let i = from; i < to; i += 1)
      sandbox?.publishRecordChanges([
        {
          entity: 'Contact',
          recordIds: [`003${String(i).padStart(15, '0')}`],
          changeType: 'UPDATE',
          changedFields: ['Title'],
          values: { Title: `T${i}` },
          origin: UI_CLIENT,
          commitUser: '005000000000001AAA',
        },
      ]);
  };

  it('stores every event once', async () => {
    sandbox = await startPubSubSandbox({ accessToken: TOKEN, organizationId: ORG });
    const first = follower();
    await first.waitForLine((line) => line === 'following', 60_000);
    publish(0, 200);
    await first.waitForLine((line) => /^stored total=(\d+)$/.test(line) && Number(line.split('=')[1]) >= 20, 60_000);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    publish(200, 240);

    const second = follower();
    await second.waitForLine((line) => line === 'stored total=240', 60_000);
    await second.stop();

    const database = await openDatabase({ dataDir: data.dir, holder: 'check' });
    try {
      const rows = await database.db.select({ value: webhookEvents.propertyValue }).from(webhookEvents);
      expect(rows).toHaveLength(240);
      expect(new Set(rows.map((row) => row.value))).toEqual(new Set(Array.from({ length: 240 }, (_, i) => `T${i}`)));
    } finally {
      await database.close();
    }
  }, 180_000);
});
