import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReceivedEvent } from '../support/siem-receivers.ts';
import { http, serverEnv, startNodeProcess, type NodeProcess } from './support/processes.ts';
import { migratedDataFolder } from '../support/data-folders.ts';
import { LOOPBACK_ALLOWED } from '../support/outbound.ts';

const HEC_TOKEN = 'e2e-hec-token';
const WEBHOOK_SECRET = 'e2e-webhook-secret-at-least-32-characters';
const KINDS = ['otlp', 'splunk_hec', 'webhook'] as const;
// Small batches and quick retries, so the stream is long enough to kill mid-way and recovers within the test.
// The short lease lets the restarted server take over the destination the killed one held.
const SIEM_ENV = {
  SIEM_EVENTS_PER_REQUEST: '5',
  SIEM_POLL_MS: '100',
  SIEM_RETRY_MAX_MS: '500',
  SIEM_LEASE_MS: '3000',
  ...LOOPBACK_ALLOWED,
};

type Received = ReceivedEvent & { kind: (typeof KINDS)[number] };

// Issue 22: the cursor per destination is the queue, so neither the server's death nor the
// receivers' loses an event; what was sent but not acknowledged comes again, marked by its seq.
describe('audit streaming through a kill -9 of the server and an outage of the receivers', () => {
  const data = migratedDataFolder('ag-e2e-siem-');
  const receivedFile = path.join(data.dir, 'received.ndjson');
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
    const receivers = start('test/e2e/support/siem-receivers.ts', {}, [
      receivedFile,
      HEC_TOKEN,
      WEBHOOK_SECRET,
      ...ports,
    ]);
    const line = await receivers.waitForLine((candidate) => candidate.includes('receivers listening'));
    return { process: receivers, urls: (JSON.parse(line) as { urls: Record<string, string> }).urls };
  };
  const received = (): Received[] =>
    fs.existsSync(receivedFile)
      ? fs
          .readFileSync(receivedFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Received)
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

  it('delivers every event to each receiver in chain order, none lost, duplicates only of seqs already sent', async () => {
    const firstReceivers = await startReceivers();
    let server = start('server/src/main.ts', serverEnv(data.dir, SIEM_ENV));
    let serverUrl = await listening(server);
    await server.waitForLine((line) => line.startsWith('Try next'), 60_000);
    const token = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    const agentId = (await http('GET', `${serverUrl}/v1/admin/agents`, { token })).body.agents[0].id as string;
    const toggle = async (base: string, times: number) => {
      for (let i = 0; i < times; i++)
        await http('PUT', `${base}/v1/admin/kill-switches`, {
          token,
          body: { scope: 'agent', target: agentId, engaged: i % 2 === 0, reason: `e2e ${i}` },
        });
    };
    await toggle(serverUrl, 60);
    for (const kind of KINDS) {
      const added = await http('POST', `${serverUrl}/v1/admin/siem-destinations`, {
        token,
        body: {
          name: kind,
          kind,
          url: firstReceivers.urls[kind],
          ...(kind === 'splunk_hec' ? { secret: HEC_TOKEN } : kind === 'webhook' ? { secret: WEBHOOK_SECRET } : {}),
        },
      });
      expect(added.status).toBe(201);
    }

    // Mid-stream: some events are through, not all.
    await expect.poll(() => received().length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(30);
    const head = (await http('GET', `${serverUrl}/v1/admin/audit/verify`, { token })).body.events as number;
    await killed(server);
    expect(new Set(received().map((event) => `${event.kind}:${event.seq}`)).size).toBeLessThan(KINDS.length * head);
    const ports = KINDS.map((kind) => new URL(firstReceivers.urls[kind]!).port);

    // The receivers go down too, and the restarted server meets refused connections for a while.
    await killed(firstReceivers.process);
    server = start('server/src/main.ts', serverEnv(data.dir, SIEM_ENV));
    serverUrl = await listening(server);
    await toggle(serverUrl, 20);
    await expect
      .poll(
        async () =>
          (
            (await http('GET', `${serverUrl}/v1/admin/siem-destinations`, { token })).body.destinations as {
              status: string;
            }[]
          ).map((d) => d.status),
        { timeout: 20_000, interval: 100 },
      )
      .toEqual(['failing', 'failing', 'failing']);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await startReceivers(ports);

    await expect
      .poll(
        async () =>
          (
            (await http('GET', `${serverUrl}/v1/admin/siem-destinations`, { token })).body.destinations as {
              status: string;
            }[]
          ).map((d) => d.status),
        { timeout: 60_000, interval: 200 },
      )
      .toEqual(['current', 'current', 'current']);

    const exported = await fetch(`${serverUrl}/v1/admin/audit/export`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const chain = (await exported.text())
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ReceivedEvent);
    const hashOf = new Map(chain.map((event) => [event.seq, event.hash]));
    for (const kind of KINDS) {
      const stream = received().filter((event) => event.kind === kind);
      let highest = 0;
      for (const event of stream) {
        // In chain order: a seq never arrives ahead of one not yet delivered; a lower one is a resend.
        expect(event.seq).toBeLessThanOrEqual(highest + 1);
        expect(event.hash).toBe(hashOf.get(event.seq));
        if (event.seq > 1) expect(event.prevHash).toBe(hashOf.get(event.seq - 1));
        highest = Math.max(highest, event.seq);
      }
      expect([...new Set(stream.map((event) => event.seq))].sort((a, b) => a - b)).toEqual(
        chain.map((event) => event.seq),
      );
    }
  }, 180_000);
});
