import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAlertChannelSchema } from '../../shared/alert-api.ts';
import { createSiemDestinationSchema } from '../../shared/siem-api.ts';
import { addAlertChannel } from '../../server/src/services/alerts/index.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { bootstrapWorkspace, setKillSwitch } from '../../server/src/services/governance/index.ts';
import { addSiemDestination } from '../../server/src/services/siem/index.ts';
import { runAlertJobs } from '../support/alert-jobs.ts';
import { startHookReceiver, startSmtpSink } from '../support/alert-receivers.ts';
import { cliOver } from '../support/cli.ts';
import { consoleCall, signInPeople } from '../support/console.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { LOOPBACK_NETWORKS, outboundAllowing } from '../support/outbound.ts';
import { startSiemReceiver } from '../support/siem-receivers.ts';
import { deliverAllSiem, listSiemDestinations } from '../support/siem-jobs.ts';

// Issue 22: a workspace's admin cannot aim the server's deliveries at the server's own network.
// This server runs as one configured by default: OUTBOUND_ALLOWED_NETWORKS unset, public addresses only.

/** What a refused delivery records: the same words whatever the address, and nothing of what is there. */
const REFUSED =
  "refused: the destination's address is not public (loopback, private, link-local or reserved) and OUTBOUND_ALLOWED_NETWORKS does not allow it";

let now = new Date();
let harness: Harness;
let closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  harness = await startHarness({ clock: () => now, outboundAllowedNetworks: [] });
});
afterAll(() => harness.close());
afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
});

/** The same server once its operator set OUTBOUND_ALLOWED_NETWORKS to loopback. */
const allowingLoopback = (): ServiceDeps => ({ ...harness.deps, outbound: outboundAllowing(LOOPBACK_NETWORKS) });

const engage = (workspaceId: string, agentId: string, engaged = true) =>
  setKillSwitch(harness.deps, workspaceId, { scope: 'agent', target: agentId, engaged, reason: 'drill' }, ADMIN);

function expectRefusedAtConfiguration(answer: { status: number; body: any }, path: string, sent: unknown) {
  expect(answer.status, JSON.stringify(sent)).toBe(422);
  expect(answer.body.error).toMatchObject({
    code: 'DESTINATION_NOT_ALLOWED',
    details: { path, reason: 'address_not_public', setting: 'OUTBOUND_ALLOWED_NETWORKS' },
  });
  expect(answer.body.error.message).toMatch(/which is not a public address \(.+\).*OUTBOUND_ALLOWED_NETWORKS/);
}

describe('destinations the server does not send to, refused when configured', () => {
  it('refuses a SIEM destination whose URL names a loopback, private, link-local, metadata or mapped address, and stores nothing', async () => {
    const { adminToken } = await seedWorkspace(harness);
    const urls = [
      'https://169.254.169.254/latest/meta-data/',
      'http://127.0.0.1:4318/v1/logs',
      'http://[::1]:4318/v1/logs',
      'https://[::ffff:127.0.0.1]/v1/logs',
      'https://[::ffff:a9fe:a9fe]/v1/logs',
      'https://[64:ff9b::a9fe:a9fe]/v1/logs',
      'https://10.0.0.5:8088/services/collector/event',
      'https://172.16.3.4/v1/logs',
      'https://192.168.1.10/v1/logs',
      'https://100.64.0.1/v1/logs',
      'https://0.0.0.0/v1/logs',
      'https://0x7f.1/v1/logs',
      'https://2130706433/v1/logs',
      'https://[fd00::1]/v1/logs',
      'https://[fe80::1]/v1/logs',
    ];
    for (const url of urls) {
      const body = { name: 'collector', kind: 'otlp', url };
      expectRefusedAtConfiguration(
        await api(harness, 'POST', '/v1/admin/siem-destinations', { token: adminToken, body }),
        'url',
        body,
      );
    }
    const metadata = await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: adminToken,
      body: { name: 'collector', kind: 'otlp', url: urls[0] },
    });
    expect(metadata.body.error.message).toBe(
      "The destination's URL names 169.254.169.254, which is not a public address (link-local): this server sends workspaces' deliveries only to public addresses, unless its operator allows that network in OUTBOUND_ALLOWED_NETWORKS.",
    );
    expect(await listSiemDestinations(harness, adminToken)).toEqual([]);
  });

  it('refuses alert channels whose URL or SMTP host names such an address, from the admin API and the console', async () => {
    const { workspaceId, adminToken } = await seedWorkspace(harness);
    const bodies: [Record<string, unknown>, string][] = [
      [{ name: 'ops', kind: 'slack', url: 'https://169.254.169.254/hook' }, 'url'],
      [{ name: 'ops', kind: 'teams', url: 'https://10.1.2.3/webhook' }, 'url'],
      [
        { name: 'ops', kind: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 'a-webhook-secret-of-32-characters!' },
        'url',
      ],
      [
        { name: 'ops', kind: 'email', smtp: { host: '127.0.0.1' }, from: 'ag@example.com', to: ['ops@example.com'] },
        'smtp.host',
      ],
      [
        { name: 'ops', kind: 'email', smtp: { host: '::1' }, from: 'ag@example.com', to: ['ops@example.com'] },
        'smtp.host',
      ],
      [
        {
          name: 'ops',
          kind: 'email',
          smtp: { host: '169.254.169.254', port: 25 },
          from: 'ag@example.com',
          to: ['ops@example.com'],
        },
        'smtp.host',
      ],
    ];
    for (const [body, path] of bodies)
      expectRefusedAtConfiguration(
        await api(harness, 'POST', '/v1/admin/alert-channels', { token: adminToken, body }),
        path,
        body,
      );

    await bootstrapWorkspace(harness.deps, workspaceId, ADMIN);
    const cookies = await signInPeople(harness, workspaceId, { '1': 'owner' });
    for (const [path, body] of [
      ['/console/api/siem-destinations', { name: 'collector', kind: 'otlp', url: 'http://127.0.0.1:4318/v1/logs' }],
      ['/console/api/alert-channels', { name: 'ops', kind: 'slack', url: 'https://[::ffff:169.254.169.254]/hook' }],
    ] as const) {
      const response = await consoleCall(harness, cookies['1']!, 'POST', path, body);
      expectRefusedAtConfiguration({ status: response.status, body: await response.json() }, 'url', body);
    }
    expect((await api(harness, 'GET', '/v1/admin/alert-channels', { token: adminToken })).body.channels).toEqual([]);
    expect(await listSiemDestinations(harness, adminToken)).toEqual([]);
  });

  it('refuses them from the CLI with the code and the sentence', async () => {
    const { workspaceId } = await seedWorkspace(harness);
    const args = ['siem', 'add', '--workspace', workspaceId, '--name', 'collector', '--kind', 'otlp'];
    const refused = await cliOver(harness, ...args, '--url', 'http://127.0.0.1:4318/v1/logs', '--json');
    expect(refused.code).toBe(1);
    expect(refused.json.error).toMatchObject({ code: 'DESTINATION_NOT_ALLOWED', details: { path: 'url' } });
    const human = await cliOver(harness, ...args, '--url', 'https://[fd12:3456::1]/v1/logs');
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(
      /fd12:3456::1\], which is not a public address \(private\).*OUTBOUND_ALLOWED_NETWORKS/,
    );
  });
});

describe('the address dialled, checked when a delivery connects', () => {
  it('takes a SIEM destination named by a host name, refuses it when the name resolves to loopback, retries it, and delivers once the operator allows loopback', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const receiver = await startSiemReceiver({ kind: 'otlp' });
    closers.push(receiver.close);
    // localhost resolves to 127.0.0.1 when the delivery connects, whatever it resolved to before.
    const url = receiver.url.replace('127.0.0.1', 'localhost');
    const added = await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: adminToken,
      body: { name: 'local-collector', kind: 'otlp', url },
    });
    expect(added.status).toBe(201);
    await engage(workspaceId, agents[0]!.id);

    await deliverAllSiem(harness.deps);

    const [refused] = await listSiemDestinations(harness, adminToken);
    expect(refused).toMatchObject({ status: 'failing', cursorSeq: 0, lastError: REFUSED });
    // Retried later, as any failed delivery is.
    expect(new Date(refused!.nextAttemptAt).getTime()).toBeGreaterThan(now.getTime());
    expect(receiver.connections).toBe(0);

    now = new Date(now.getTime() + 60_000);
    await deliverAllSiem(allowingLoopback());

    const [delivered] = await listSiemDestinations(harness, adminToken);
    expect(delivered).toMatchObject({ status: 'current', lastError: null });
    expect(delivered!.cursorSeq).toBe(delivered!.headSeq);
    expect(receiver.received.map((event) => event.seq)).toEqual(
      Array.from({ length: delivered!.headSeq }, (_, index) => index + 1),
    );
  });

  it('refuses a destination whose URL names a loopback address, stored while the operator allowed it, once the setting no longer does', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const receiver = await startSiemReceiver({ kind: 'otlp' });
    closers.push(receiver.close);
    await addSiemDestination(
      allowingLoopback(),
      workspaceId,
      createSiemDestinationSchema.parse({ name: 'collector', kind: 'otlp', url: receiver.url }),
      ADMIN,
    );
    await engage(workspaceId, agents[0]!.id);

    await deliverAllSiem(harness.deps);

    expect(await listSiemDestinations(harness, adminToken)).toMatchObject([
      { status: 'failing', cursorSeq: 0, lastError: REFUSED },
    ]);
    expect(receiver.connections).toBe(0);
  });

  it('refuses a webhook and an SMTP host given as loopback addresses, stored while the operator allowed them, once the setting no longer does', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const [hook, smtp] = [await startHookReceiver(), await startSmtpSink()];
    closers.push(hook.close, smtp.close);
    for (const channel of [
      { name: 'ops-slack', kind: 'slack', url: hook.url },
      {
        name: 'ops-mail',
        kind: 'email',
        smtp: { host: '127.0.0.1', port: smtp.port },
        from: 'governance@example.com',
        to: ['oncall@example.com'],
      },
    ])
      await addAlertChannel(allowingLoopback(), workspaceId, createAlertChannelSchema.parse(channel), ADMIN);
    const rule = { name: 'stops', kind: 'kill_switch_engaged', channels: ['ops-slack', 'ops-mail'] };
    expect((await api(harness, 'POST', '/v1/admin/alert-rules', { token: adminToken, body: rule })).status).toBe(201);
    await engage(workspaceId, agents[0]!.id);

    await runAlertJobs(harness.deps);

    const listed = (await api(harness, 'GET', '/v1/admin/alerts', { token: adminToken })).body.alerts;
    expect(listed).toMatchObject([
      { status: 'pending', attempts: 1, lastError: REFUSED },
      { status: 'pending', attempts: 1, lastError: REFUSED },
    ]);
    expect([hook.connections, smtp.connections]).toEqual([0, 0]);
  });

  it('refuses a Slack webhook and an SMTP host that resolve to loopback, keeps the alerts for their next attempt, and sends them once allowed', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const [slack, smtp] = [await startHookReceiver(), await startSmtpSink()];
    closers.push(slack.close, smtp.close);
    for (const body of [
      { name: 'ops-slack', kind: 'slack', url: slack.url.replace('127.0.0.1', 'localhost') },
      {
        name: 'ops-mail',
        kind: 'email',
        smtp: { host: 'localhost', port: smtp.port },
        from: 'governance@example.com',
        to: ['oncall@example.com'],
      },
    ])
      expect((await api(harness, 'POST', '/v1/admin/alert-channels', { token: adminToken, body })).status).toBe(201);
    const rule = await api(harness, 'POST', '/v1/admin/alert-rules', {
      token: adminToken,
      body: { name: 'stops', kind: 'kill_switch_engaged', channels: ['ops-slack', 'ops-mail'] },
    });
    expect(rule.status).toBe(201);
    await engage(workspaceId, agents[0]!.id);

    await runAlertJobs(harness.deps);

    const alerts = async () =>
      (await api(harness, 'GET', '/v1/admin/alerts', { token: adminToken })).body.alerts as {
        status: string;
        attempts: number;
        lastError: string | null;
      }[];
    expect(await alerts()).toMatchObject([
      { status: 'pending', attempts: 1, lastError: REFUSED },
      { status: 'pending', attempts: 1, lastError: REFUSED },
    ]);
    expect([slack.connections, smtp.connections]).toEqual([0, 0]);

    now = new Date(now.getTime() + 60_000);
    await runAlertJobs(allowingLoopback());

    expect(await alerts()).toMatchObject([
      { status: 'sent', attempts: 2, lastError: null },
      { status: 'sent', attempts: 2, lastError: null },
    ]);
    expect(slack.received).toHaveLength(1);
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.to).toEqual(['oncall@example.com']);
  });
});
