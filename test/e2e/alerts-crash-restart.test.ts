import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { http, serverEnv, startNodeProcess, type NodeProcess } from './support/processes.ts';
import { migratedDataFolder } from '../support/data-folders.ts';
import { LOOPBACK_ALLOWED } from '../support/outbound.ts';

const CONSOLE = 'https://console.example.test';
// Quick retries, and a short lease so the restarted server takes over what the killed one held.
const ALERT_ENV = {
  ALERT_POLL_MS: '100',
  ALERT_RETRY_MAX_MS: '500',
  ALERT_LEASE_MS: '3000',
  ALERT_MAX_ATTEMPTS: '1000',
  PUBLIC_URL: CONSOLE,
  ...LOOPBACK_ALLOWED,
};
const AGENTS = 8;

// Issue 22, part 3: alerts wait in the outbox through the channels' outage and the server's death,
// and each is raised once (one audit event) however often its delivery is tried.
describe('alerts through an outage of their channels and a kill -9 of the server', () => {
  const data = migratedDataFolder('ag-e2e-alerts-');
  const receivedFile = path.join(data.dir, 'alerts.ndjson');
  const processes: NodeProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((process) => process.stop()));
    data.remove();
  });

  const start = (script: string, env: Record<string, string | undefined>, args: string[] = []) => {
    const started = startNodeProcess(script, env, args);
    processes.push(started);
    return started;
  };
  const startReceivers = async (ports: string[] = []) => {
    const receivers = start('test/e2e/support/alert-receivers.ts', {}, [receivedFile, ...ports]);
    const line = await receivers.waitForLine((candidate) => candidate.includes('receivers listening'));
    return { process: receivers, ...(JSON.parse(line) as { hookUrl: string; smtpPort: number }) };
  };
  const received = (): { channel: string; link: string }[] =>
    fs.existsSync(receivedFile)
      ? fs
          .readFileSync(receivedFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { channel: string; link: string })
      : [];
  const killed = async (process: NodeProcess) => {
    process.child.kill('SIGKILL');
    await new Promise((resolve) => process.child.once('exit', resolve));
  };
  const listening = async (process: NodeProcess) =>
    (
      JSON.parse(await process.waitForLine((line) => line.includes('"message":"listening"'), 60_000)) as {
        url: string;
      }
    ).url;

  it('delivers every alert to Slack and by email once both are back, raised once each, after a kill -9', async () => {
    // The channels' ports are known, then they go down before anything is sent.
    const first = await startReceivers();
    const ports = [new URL(first.hookUrl).port, String(first.smtpPort)];
    await killed(first.process);

    let server = start('server/src/main.ts', serverEnv(data.dir, ALERT_ENV));
    let serverUrl = await listening(server);
    await server.waitForLine((line) => line.startsWith('Try next'), 60_000);
    const token = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    const post = async (route: string, body: unknown) => {
      const res = await http('POST', `${serverUrl}${route}`, { token, body });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body;
    };
    await post('/v1/admin/alert-channels', { name: 'slack', kind: 'slack', url: first.hookUrl });
    await post('/v1/admin/alert-channels', {
      name: 'mail',
      kind: 'email',
      smtp: { host: '127.0.0.1', port: first.smtpPort },
      from: 'governance@example.com',
      to: ['oncall@example.com'],
    });
    await post('/v1/admin/alert-rules', { name: 'switches', kind: 'kill_switch_engaged', channels: ['slack', 'mail'] });
    const agentIds: string[] = [];
    for (let i = 0; i < AGENTS; i++)
      agentIds.push((await post('/v1/admin/agents', { name: `e2e-${i}`, role: 'enrichment' })).id);
    for (const agentId of agentIds)
      await http('PUT', `${serverUrl}/v1/admin/kill-switches`, {
        token,
        body: { scope: 'agent', target: agentId, engaged: true, reason: 'e2e' },
      });

    // Every alert raised and tried at least once against the dead channels, then the server dies.
    const alerts = async () =>
      (await http('GET', `${serverUrl}/v1/admin/alerts?limit=1000`, { token })).body.alerts as {
        status: string;
        attempts: number;
        link: string;
      }[];
    await expect
      .poll(async () => (await alerts()).filter((a) => a.status === 'pending' && a.attempts > 0).length, {
        timeout: 30_000,
        interval: 100,
      })
      .toBe(AGENTS * 2);
    await killed(server);

    await startReceivers(ports);
    server = start('server/src/main.ts', serverEnv(data.dir, ALERT_ENV));
    serverUrl = await listening(server);
    await expect
      .poll(async () => (await alerts()).filter((a) => a.status === 'sent').length, { timeout: 60_000, interval: 200 })
      .toBe(AGENTS * 2);

    const links = (await alerts()).map((a) => a.link);
    expect(new Set(links).size).toBe(AGENTS);
    for (const link of links) expect(link).toMatch(new RegExp(`^${CONSOLE}/audit/\\d+$`));
    for (const channel of ['slack', 'email'])
      expect(
        new Set(
          received()
            .filter((r) => r.channel === channel)
            .map((r) => r.link),
        ),
      ).toEqual(new Set(links));

    const exported = await fetch(`${serverUrl}/v1/admin/audit/export`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const types = (await exported.text())
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { type: string }).type);
    expect(types.filter((type) => type === 'alert.raised')).toHaveLength(AGENTS);
  }, 180_000);
});
