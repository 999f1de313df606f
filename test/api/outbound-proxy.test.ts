import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { setKillSwitch } from '../../server/src/services/governance/index.ts';
import { runAlertJobs } from '../support/alert-jobs.ts';
import { startHookReceiver } from '../support/alert-receivers.ts';
import { type ConnectProxy, startConnectProxy } from '../support/connect-proxy.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { LOOPBACK_NETWORKS, outboundAllowing } from '../support/outbound.ts';
import { startSiemReceiver } from '../support/siem-receivers.ts';
import { deliverAllSiem, listSiemDestinations } from '../support/siem-jobs.ts';

// Egress proxy (issue 22): with OUTBOUND_PROXY set, SIEM and alert webhook deliveries go through an
// HTTP CONNECT tunnel to the address the server checked, never to a host name the proxy resolves.
// The receivers are added over the API, so they are named `localhost`: the address is checked when used.

const REFUSED =
  "refused: the destination's address is not public (loopback, private, link-local or reserved) and OUTBOUND_ALLOWED_NETWORKS does not allow it";
const PROXY_REFUSED = 'proxy refused: the egress proxy OUTBOUND_PROXY names did not open a tunnel to the destination';
const PROXY_UNREACHABLE =
  'proxy unreachable: the egress proxy OUTBOUND_PROXY names could not be reached or did not answer';

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

/** The server once its operator set OUTBOUND_PROXY, and OUTBOUND_ALLOWED_NETWORKS to these networks. */
const through = (proxy: string, networks: readonly string[] = LOOPBACK_NETWORKS): ServiceDeps => ({
  ...harness.deps,
  outbound: outboundAllowing(networks, proxy),
});

async function proxy(options: { credentials?: string } = {}): Promise<ConnectProxy> {
  const started = await startConnectProxy(options);
  closers.push(started.close);
  return started;
}

/** A workspace sending its audit stream to `siemUrl` and its kill-switch alerts to `hookUrl`, with one of each waiting. */
async function workspaceSendingTo(urls: { siem?: string; hook?: string }) {
  const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
  const admin = (path: string, body: Record<string, unknown>) =>
    api(harness, 'POST', path, { token: adminToken, body });
  if (urls.siem)
    expect(
      (await admin('/v1/admin/siem-destinations', { name: 'collector', kind: 'otlp', url: urls.siem })).status,
    ).toBe(201);
  if (urls.hook) {
    expect((await admin('/v1/admin/alert-channels', { name: 'ops-slack', kind: 'slack', url: urls.hook })).status).toBe(
      201,
    );
    const rule = { name: 'stops', kind: 'kill_switch_engaged', channels: ['ops-slack'] };
    expect((await admin('/v1/admin/alert-rules', rule)).status).toBe(201);
  }
  await setKillSwitch(
    harness.deps,
    workspaceId,
    { scope: 'agent', target: agents[0]!.id, engaged: true, reason: 'drill' },
    ADMIN,
  );
  return { adminToken };
}

const alertsOf = async (adminToken: string) =>
  (await api(harness, 'GET', '/v1/admin/alerts', { token: adminToken })).body.alerts as {
    status: string;
    lastError: string | null;
  }[];

const named = (url: string) => url.replace('127.0.0.1', 'localhost');
const portOf = (url: string) => new URL(url).port;

describe('deliveries through the egress proxy (OUTBOUND_PROXY)', () => {
  it('sends a SIEM delivery and an alert webhook through tunnels to the checked address, the host name kept in Host', async () => {
    const egress = await proxy({ credentials: 'governance:s3cret' });
    const [collector, slack] = [await startSiemReceiver({ kind: 'otlp' }), await startHookReceiver()];
    closers.push(collector.close, slack.close);
    const { adminToken } = await workspaceSendingTo({ siem: named(collector.url), hook: named(slack.url) });

    // Alerts first: sending one is audited, and the stream then carries that too.
    await runAlertJobs(through(egress.url));
    await deliverAllSiem(through(egress.url));

    const [destination] = await listSiemDestinations(harness, adminToken);
    expect(destination).toMatchObject({ status: 'current', lastError: null });
    expect(collector.received.map((event) => event.seq)).toEqual(
      Array.from({ length: destination!.headSeq }, (_, index) => index + 1),
    );
    expect(await alertsOf(adminToken)).toMatchObject([{ status: 'sent', lastError: null }]);
    expect(slack.received).toHaveLength(1);
    // Asked for the address the server resolved and checked, not for `localhost`, which the proxy would resolve itself.
    const targets = [`127.0.0.1:${portOf(collector.url)}`, `127.0.0.1:${portOf(slack.url)}`];
    expect(new Set(egress.asked)).toEqual(new Set(targets));
    expect(egress.tunnels).toBe(egress.asked.length);
    expect(
      egress.sent.some((head) => head.toLowerCase().includes(`host: localhost:${portOf(collector.url)}\r\n`)),
    ).toBe(true);
    expect(egress.sent.some((head) => head.toLowerCase().includes(`host: localhost:${portOf(slack.url)}\r\n`))).toBe(
      true,
    );
  });

  it('refuses a destination whose name resolves to a refused address without asking the proxy for a tunnel, and tunnels to it once allowed', async () => {
    const egress = await proxy();
    const [collector, slack] = [await startSiemReceiver({ kind: 'otlp' }), await startHookReceiver()];
    closers.push(collector.close, slack.close);
    const { adminToken } = await workspaceSendingTo({ siem: named(collector.url), hook: named(slack.url) });

    // The operator's proxy listens on loopback, which OUTBOUND_ALLOWED_NETWORKS does not list: the proxy is not checked, the destinations are.
    await deliverAllSiem(through(egress.url, []));
    await runAlertJobs(through(egress.url, []));

    expect(await listSiemDestinations(harness, adminToken)).toMatchObject([{ status: 'failing', lastError: REFUSED }]);
    expect(await alertsOf(adminToken)).toMatchObject([{ status: 'pending', lastError: REFUSED }]);
    expect([egress.asked, egress.tunnels, collector.connections, slack.connections]).toEqual([[], 0, 0, 0]);

    // The same proxy, once the operator allows loopback: the retries go through it.
    now = new Date(now.getTime() + 60_000);
    await runAlertJobs(through(egress.url));
    await deliverAllSiem(through(egress.url));

    expect(await listSiemDestinations(harness, adminToken)).toMatchObject([{ status: 'current', lastError: null }]);
    expect(await alertsOf(adminToken)).toMatchObject([{ status: 'sent', lastError: null }]);
    expect(new Set(egress.asked)).toEqual(
      new Set([`127.0.0.1:${portOf(collector.url)}`, `127.0.0.1:${portOf(slack.url)}`]),
    );
  });

  it('records one fixed sentence naming OUTBOUND_PROXY when the proxy answers 407 or cannot be reached, and nothing reaches the destination', async () => {
    const egress = await proxy({ credentials: 'governance:s3cret' });
    const collector = await startSiemReceiver({ kind: 'otlp' });
    closers.push(collector.close);
    const { adminToken } = await workspaceSendingTo({ siem: named(collector.url) });

    await deliverAllSiem(through(egress.urlWith('governance', 'wrong')));

    expect(await listSiemDestinations(harness, adminToken)).toMatchObject([
      { status: 'failing', lastError: PROXY_REFUSED },
    ]);
    expect(egress.asked).toEqual([`127.0.0.1:${portOf(collector.url)}`]);
    expect([egress.tunnels, collector.connections]).toEqual([0, 0]);

    const closed = await proxy();
    await closed.close();
    now = new Date(now.getTime() + 60_000);
    await deliverAllSiem(through(closed.url));

    expect(await listSiemDestinations(harness, adminToken)).toMatchObject([
      { status: 'failing', lastError: PROXY_UNREACHABLE },
    ]);
    expect(collector.connections).toBe(0);
  });
});
