import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siemDestinations } from '../../server/src/store/schema.ts';
import { seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { cliOver } from '../support/cli.ts';

// Issue 22: SIEM destinations from the CLI, the secret read from a file so it never sits in argv.
let harness: Harness;
let folder: string;

beforeAll(async () => {
  harness = await startHarness();
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-siem-cli-'));
});
afterAll(async () => {
  fs.rmSync(folder, { recursive: true, force: true });
  await harness.close();
});

describe('siem add, list and remove', () => {
  it('adds a HEC destination with its token from a file, lists it without the token, and removes it', async () => {
    const { workspaceId } = await seedWorkspace(harness);
    const tokenFile = path.join(folder, 'hec.token');
    fs.writeFileSync(tokenFile, 'hec-token-from-a-file\n');
    const added = await cliOver(
      harness,
      'siem',
      'add',
      '--workspace',
      workspaceId,
      '--name',
      'splunk',
      '--kind',
      'splunk_hec',
      '--url',
      'https://splunk.example.com:8088/services/collector/event',
      '--secret-file',
      tokenFile,
      '--down-after-seconds',
      '300',
      '--json',
    );
    expect(added.code).toBe(0);
    expect(added.json).toMatchObject({ name: 'splunk', kind: 'splunk_hec', hasSecret: true, downAfterSeconds: 300 });

    const listed = await cliOver(harness, 'siem', 'list', '--workspace', workspaceId, '--json');
    expect(listed.json.destinations).toHaveLength(1);
    expect(listed.stdout).not.toContain('hec-token-from-a-file');
    const human = await cliOver(harness, 'siem', 'list', '--workspace', workspaceId);
    expect(human.stdout).toMatch(/splunk_hec\s+behind\s+seq 0\/\d+\s+splunk/);

    const removed = await cliOver(
      harness,
      'siem',
      'remove',
      '--workspace',
      workspaceId,
      '--destination',
      added.json.id,
      '--json',
    );
    expect(removed.code).toBe(0);
    expect((await cliOver(harness, 'siem', 'list', '--workspace', workspaceId, '--json')).json.destinations).toEqual(
      [],
    );
  });

  it('lists a destination saved with a user and password in its URL with them shown as ***@, in --json and in text', async () => {
    const { workspaceId } = await seedWorkspace(harness);
    await harness.database.db.insert(siemDestinations).values({
      id: randomUUID(),
      workspaceId,
      name: 'old-collector',
      kind: 'otlp',
      url: 'https://collector:s3cret@otel.example.com/v1/logs',
      downAfterSeconds: 900,
      cursorSeq: 0,
      nextAttemptAt: new Date(),
    });
    const listed = await cliOver(harness, 'siem', 'list', '--workspace', workspaceId, '--json');
    expect(listed.json.destinations.map((d: { url: string }) => d.url)).toEqual([
      'https://***@otel.example.com/v1/logs',
    ]);
    const human = await cliOver(harness, 'siem', 'list', '--workspace', workspaceId);
    expect(human.stdout).toContain('old-collector  https://***@otel.example.com/v1/logs');
    expect(listed.stdout + human.stdout).not.toContain('s3cret');
  });

  it('names the option at fault when a destination is refused', async () => {
    const { workspaceId } = await seedWorkspace(harness);
    const refused = await cliOver(
      harness,
      'siem',
      'add',
      '--workspace',
      workspaceId,
      '--name',
      'hook',
      '--kind',
      'webhook',
      '--url',
      'http://siem.example.com/in',
      '--json',
    );
    expect(refused.code).toBe(1);
    expect(refused.json.error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^--url: /) });
    const noSecret = await cliOver(
      harness,
      'siem',
      'add',
      '--workspace',
      workspaceId,
      '--name',
      'hook',
      '--kind',
      'webhook',
      '--url',
      'https://siem.example.com/in',
      '--json',
    );
    expect(noSecret.json.error.message).toMatch(/^--secret-file: /);
  });
});
