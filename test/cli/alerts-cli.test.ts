import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOver } from '../support/cli.ts';
import { seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

// Issue 22, part 3: alert channels and rules from the CLI, secrets read from files so they never sit in argv.
let harness: Harness;
let folder: string;

beforeAll(async () => {
  harness = await startHarness();
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-alerts-cli-'));
});
afterAll(async () => {
  fs.rmSync(folder, { recursive: true, force: true });
  await harness.close();
});

const SLACK_URL = 'https://hooks.example.com/services/T0/B0/from-a-file';

describe('alerts channel and rule commands', () => {
  it('adds a Slack and an email channel with their secrets from files, a rule on both, lists them without a secret, and removes them', async () => {
    const { workspaceId } = await seedWorkspace(harness);
    const urlFile = path.join(folder, 'slack.url');
    fs.writeFileSync(urlFile, `${SLACK_URL}\n`);
    const passwordFile = path.join(folder, 'smtp.password');
    fs.writeFileSync(passwordFile, 'smtp-password-from-a-file\n');
    const ws = ['--workspace', workspaceId];
    const slack = await cliOver(
      harness,
      'alerts',
      'channel',
      'add',
      ...ws,
      '--name',
      'ops',
      '--kind',
      'slack',
      '--url-file',
      urlFile,
      '--json',
    );
    expect(slack.code, slack.stderr).toBe(0);
    expect(slack.json).toMatchObject({ name: 'ops', kind: 'slack', settings: {} });
    const mail = await cliOver(
      harness,
      'alerts',
      'channel',
      'add',
      ...ws,
      '--name',
      'on-call',
      '--kind',
      'email',
      '--smtp-host',
      'smtp.example.com',
      '--smtp-port',
      '465',
      '--smtp-secure',
      '--smtp-user',
      'alerts',
      '--smtp-password-file',
      passwordFile,
      '--from',
      'governance@example.com',
      '--to',
      'a@example.com, b@example.com',
      '--json',
    );
    expect(mail.code, mail.stderr).toBe(0);
    expect(mail.json.settings).toEqual({
      smtpHost: 'smtp.example.com',
      smtpPort: 465,
      smtpSecure: true,
      smtpUser: 'alerts',
      from: 'governance@example.com',
      to: ['a@example.com', 'b@example.com'],
    });

    const rule = await cliOver(
      harness,
      'alerts',
      'rule',
      'add',
      ...ws,
      '--name',
      'rejections',
      '--kind',
      'rejection_rate',
      '--threshold',
      '0.4',
      '--min-count',
      '10',
      '--channels',
      'ops,on-call',
      '--window-minutes',
      '120',
      '--json',
    );
    expect(rule.code, rule.stderr).toBe(0);
    expect(rule.json).toMatchObject({
      kind: 'rejection_rate',
      params: { threshold: 0.4, minCount: 10 },
      channelIds: [slack.json.id, mail.json.id],
      windowMinutes: 120,
    });

    const channels = await cliOver(harness, 'alerts', 'channel', 'list', ...ws);
    expect(channels.stdout).toContain('on-call');
    expect(channels.stdout).not.toContain(SLACK_URL);
    expect(channels.stdout).not.toContain('smtp-password-from-a-file');
    const inUse = await cliOver(harness, 'alerts', 'channel', 'remove', ...ws, '--channel', slack.json.id);
    expect(inUse.code).not.toBe(0);
    expect(inUse.stderr).toContain('"rejections"');

    expect((await cliOver(harness, 'alerts', 'rule', 'remove', ...ws, '--rule', rule.json.id)).code).toBe(0);
    expect((await cliOver(harness, 'alerts', 'channel', 'remove', ...ws, '--channel', slack.json.id)).code).toBe(0);
    expect((await cliOver(harness, 'alerts', 'rule', 'list', ...ws, '--json')).json.rules).toEqual([]);
    expect((await cliOver(harness, 'alerts', 'list', ...ws, '--json')).json.alerts).toEqual([]);
  });

  it('names the option at fault when a rule or channel is refused', async () => {
    const { workspaceId } = await seedWorkspace(harness);
    const ws = ['--workspace', workspaceId];
    const noThreshold = await cliOver(
      harness,
      'alerts',
      'rule',
      'add',
      ...ws,
      '--name',
      'r',
      '--kind',
      'qa_error_rate',
      '--channels',
      'x',
    );
    expect(noThreshold.code).not.toBe(0);
    expect(noThreshold.stderr).toContain('--threshold: a qa_error_rate rule needs its threshold');
    const badTo = await cliOver(
      harness,
      'alerts',
      'channel',
      'add',
      ...ws,
      '--name',
      'm',
      '--kind',
      'email',
      '--smtp-host',
      'smtp.example.com',
      '--from',
      'governance@example.com',
      '--to',
      'not-an-address',
    );
    expect(badTo.code).not.toBe(0);
    expect(badTo.stderr).toContain('--to:');
  });
});
