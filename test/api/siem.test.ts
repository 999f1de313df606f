import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AuditEventContent, hashAuditEvent } from '../../server/src/domain/audit-chain.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type AuditCheckpoint,
  checkpointKeyFromSeed,
  checkSignature,
} from '../../server/src/domain/audit-checkpoint.ts';
import { withAuditChain } from '../../server/src/services/common/index.ts';
import { publishDueCheckpoints, setKillSwitch } from '../../server/src/services/governance/index.ts';
import { deliverToDueSiemDestination } from '../../server/src/services/siem/index.ts';
import { streamAuditEvents } from '../../server/src/store/audit-store.ts';
import { streamedEventsBetween } from '../../server/src/store/siem-store.ts';
import { siemDestinations } from '../../server/src/store/schema.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { startSiemReceiver, type ReceivedEvent, type SiemReceiver } from '../support/siem-receivers.ts';
import { startSignInProxy } from '../support/sign-in-proxy.ts';
import { deliverAllSiem, listSiemDestinations } from '../support/siem-jobs.ts';

const HEC_TOKEN = 'b1f3c0de-hec-token';
const WEBHOOK_SECRET = 'a-webhook-signing-secret-of-32-chars!';

// Real time moved by hand: a webhook receiver refuses a signature timestamp far from its own clock.
let now = new Date();
let harness: Harness;
let receivers: SiemReceiver[] = [];

beforeAll(async () => {
  harness = await startHarness({ clock: () => now });
});
afterAll(() => harness.close());
afterEach(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  receivers = [];
});

async function receiver(kind: SiemReceiver['kind'], secret?: string): Promise<SiemReceiver> {
  const started = await startSiemReceiver({ kind, ...(secret ? { secret } : {}) });
  receivers.push(started);
  return started;
}

/** Each call makes an audit event (engaging, then releasing, the agent's kill switch). */
async function auditEvents(workspaceId: string, agentId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    await setKillSwitch(
      harness.deps,
      workspaceId,
      { scope: 'agent', target: agentId, engaged: i % 2 === 0, reason: `drill ${i}` },
      ADMIN,
    );
}

async function chain(workspaceId: string): Promise<ReceivedEvent[]> {
  const events: ReceivedEvent[] = [];
  for await (const event of streamAuditEvents(harness.deps.db, workspaceId))
    events.push({ seq: event.seq, hash: event.hash, prevHash: event.prevHash, type: event.type });
  return events;
}

describe('audit streaming to SIEM destinations', () => {
  it('streams every audit event in chain order, with its seq and hash, to an OTLP collector, a HEC and a signed webhook', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const [otlp, hec, webhook] = [
      await receiver('otlp'),
      await receiver('splunk_hec', HEC_TOKEN),
      await receiver('webhook', WEBHOOK_SECRET),
    ];
    for (const [name, kind, target, secret] of [
      ['collector', 'otlp', otlp, undefined],
      ['splunk', 'splunk_hec', hec, HEC_TOKEN],
      ['hook', 'webhook', webhook, WEBHOOK_SECRET],
    ] as const) {
      const added = await api(harness, 'POST', '/v1/admin/siem-destinations', {
        token: adminToken,
        body: { name, kind, url: target!.url, ...(secret ? { secret } : {}) },
      });
      expect(added.status).toBe(201);
    }
    await auditEvents(workspaceId, agents[0]!.id, 20);

    await deliverAllSiem(harness.deps);

    const stored = await chain(workspaceId);
    const exported = [];
    for await (const event of streamAuditEvents(harness.deps.db, workspaceId)) exported.push(event);
    for (const target of [otlp, hec, webhook]) {
      expect(target!.refused).toBe(0);
      expect(target!.received).toEqual(stored);
      // Whole, as audit export has it, so a receiver can recompute each hash.
      expect(target!.whole).toEqual(exported);
    }
    for (const event of webhook!.whole) expect(hashAuditEvent(event as unknown as AuditEventContent)).toBe(event.hash);
    expect(
      (await listSiemDestinations(harness, adminToken)).map((d) => [d.name, d.status, d.cursorSeq === d.headSeq]),
    ).toEqual([
      ['collector', 'current', true],
      ['hook', 'current', true],
      ['splunk', 'current', true],
    ]);
  });

  it('sends an event whose text needs escaping exactly as audit export writes it, in every kind', async () => {
    const { workspaceId, adminToken } = await seedWorkspace(harness);
    const [otlp, hec, webhook] = [
      await receiver('otlp'),
      await receiver('splunk_hec', HEC_TOKEN),
      await receiver('webhook', WEBHOOK_SECRET),
    ];
    for (const [name, kind, target, secret] of [
      ['collector', 'otlp', otlp, undefined],
      ['splunk', 'splunk_hec', hec, HEC_TOKEN],
      ['hook', 'webhook', webhook, WEBHOOK_SECRET],
    ] as const) {
      const body = { name, kind, url: target!.url, ...(secret ? { secret } : {}) };
      expect((await api(harness, 'POST', '/v1/admin/siem-destinations', { token: adminToken, body })).status).toBe(201);
    }
    const awkward = 'a "quote", a \\ backslash, a\nnewline, a\ttab, \u0001, é, 😀 and \u2028';
    await withAuditChain(harness.deps.db, workspaceId, harness.deps.clock, async (_tx, audit) => {
      audit.append({
        type: 'test.awkward_text',
        actor: { type: 'system', name: awkward },
        batchId: awkward,
        recordId: awkward,
        property: awkward,
        before: { value: awkward, nested: { list: [awkward, 1.5, -0, 1e21, null, true] } },
        after: { [awkward]: awkward },
        reasons: [awkward, ''],
        data: { empty: {}, none: [] },
      });
    });

    await deliverAllSiem(harness.deps);

    const exported = [];
    for await (const event of streamAuditEvents(harness.deps.db, workspaceId)) exported.push(event);
    for (const target of [otlp, hec, webhook]) expect(target!.whole).toEqual(exported);
    for (const event of webhook!.whole) expect(hashAuditEvent(event as unknown as AuditEventContent)).toBe(event.hash);
    // Byte for byte as audit export's JSON.stringify writes it, not only the same values.
    const streamed = await streamedEventsBetween(harness.deps.db, {
      workspaceId,
      afterSeq: 0,
      uptoSeq: exported.length,
    });
    expect(streamed.map((event) => event.json)).toEqual(exported.map((event) => JSON.stringify(event)));
  });

  it('streams the signed checkpoints too, each right after the event it signs, with a signature that holds', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const [otlp, hec, webhook] = [
      await receiver('otlp'),
      await receiver('splunk_hec', HEC_TOKEN),
      await receiver('webhook', WEBHOOK_SECRET),
    ];
    for (const [name, kind, target, secret] of [
      ['collector', 'otlp', otlp, undefined],
      ['splunk', 'splunk_hec', hec, HEC_TOKEN],
      ['hook', 'webhook', webhook, WEBHOOK_SECRET],
    ] as const) {
      const body = { name, kind, url: target!.url, ...(secret ? { secret } : {}) };
      expect((await api(harness, 'POST', '/v1/admin/siem-destinations', { token: adminToken, body })).status).toBe(201);
    }
    const key = checkpointKeyFromSeed(randomBytes(32));
    const published: AuditCheckpoint[] = [];
    const publishing = {
      key,
      everyEvents: 5,
      everyMs: 3_600_000,
      publish: async (checkpoint: AuditCheckpoint) => {
        if (checkpoint.workspaceId === workspaceId) published.push(checkpoint);
      },
    };
    // A checkpoint signed once every event was already sent goes on its own; the next goes with its events.
    await auditEvents(workspaceId, agents[0]!.id, 7);
    await deliverAllSiem(harness.deps);
    await publishDueCheckpoints(harness.deps, publishing);
    await deliverAllSiem(harness.deps);
    await auditEvents(workspaceId, agents[0]!.id, 6);
    await publishDueCheckpoints(harness.deps, publishing);
    await deliverAllSiem(harness.deps);

    expect(published).toHaveLength(2);
    for (const target of [otlp, hec, webhook]) {
      expect(target!.received).toEqual(await chain(workspaceId));
      expect(target!.checkpoints.map(({ checkpoint }) => checkpoint)).toEqual(published);
      for (const { checkpoint, afterEvents } of target!.checkpoints) {
        // Every seq from 1 came before it, exactly once: the event it signs was the last one received.
        expect(afterEvents).toBe(checkpoint.seq);
        expect(target!.received[afterEvents - 1]!.hash).toBe(checkpoint.hash);
        expect(checkSignature(checkpoint as unknown as AuditCheckpoint, new Set([key.publicKey]))).toBeUndefined();
      }
    }
  });

  it('starts after the current head when asked to start from now', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const otlp = await receiver('otlp');
    const added = await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: adminToken,
      body: { name: 'new-only', kind: 'otlp', url: otlp.url, startFrom: 'now' },
    });
    await auditEvents(workspaceId, agents[0]!.id, 3);
    await deliverAllSiem(harness.deps);
    expect(otlp.received.map((event) => event.seq)).toEqual(
      (await chain(workspaceId)).filter((event) => event.seq > added.body.cursorSeq).map((event) => event.seq),
    );
    expect(otlp.received.map((event) => event.type)[0]).toBe('siem_destination.added');
    // The three switch changes, and the quarantine each engaging starts (issue 21), nothing from before.
    expect(otlp.received.map((event) => event.type).filter((type) => type.startsWith('kill_switch.'))).toHaveLength(3);
    expect(otlp.received.map((event) => event.seq)[0]).toBe(added.body.cursorSeq + 1);
  });

  it('keeps a failing destination’s cursor, backs off, records it down once after its time, and resumes where it stopped', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const otlp = await receiver('otlp');
    await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: adminToken,
      body: { name: 'flaky', kind: 'otlp', url: otlp.url, downAfterSeconds: 60 },
    });
    otlp.failWith = 503;
    await deliverAllSiem(harness.deps);
    expect(await listSiemDestinations(harness, adminToken)).toMatchObject([
      { status: 'failing', cursorSeq: 0, lastError: 'HTTP 503 from the destination' },
    ]);
    await auditEvents(workspaceId, agents[0]!.id, 4);

    // Not due again until its backoff has passed, however often the job looks.
    now = new Date(now.getTime() + 500);
    await deliverAllSiem(harness.deps);
    expect((await chain(workspaceId)).filter((event) => event.type.startsWith('siem_destination.down'))).toEqual([]);

    for (let i = 0; i < 4; i++) {
      now = new Date(now.getTime() + 20_000);
      await deliverAllSiem(harness.deps);
    }
    expect((await chain(workspaceId)).filter((event) => event.type === 'siem_destination.down')).toHaveLength(1);
    expect((await listSiemDestinations(harness, adminToken))[0]!.status).toBe('down');
    expect(otlp.received).toEqual([]);

    otlp.failWith = undefined;
    now = new Date(now.getTime() + 61_000);
    await deliverAllSiem(harness.deps);
    const stored = await chain(workspaceId);
    expect(stored.filter((event) => event.type === 'siem_destination.recovered')).toHaveLength(1);
    expect(otlp.received).toEqual(stored);
    expect((await listSiemDestinations(harness, adminToken))[0]).toMatchObject({ status: 'current', lastError: null });
  });

  it('waits as long as a receiver’s 429 asks (Retry-After), but never past SIEM_RETRY_MAX_MS, before sending again', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const hec = await receiver('splunk_hec', HEC_TOKEN);
    await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: adminToken,
      body: { name: 'throttled', kind: 'splunk_hec', url: hec.url, secret: HEC_TOKEN },
    });
    hec.failWith = 429;
    hec.retryAfter = '30';
    await deliverAllSiem(harness.deps);
    const [throttled] = await listSiemDestinations(harness, adminToken);
    expect(throttled).toMatchObject({ status: 'failing', lastError: 'HTTP 429 from the destination' });
    expect(Date.parse(throttled!.nextAttemptAt) - now.getTime()).toBe(30_000);

    // Past the 1 s its backoff alone would wait, not yet past the 30 s it was asked to.
    hec.failWith = undefined;
    now = new Date(now.getTime() + 29_000);
    await deliverAllSiem(harness.deps);
    expect(hec.requests).toBe(1);
    now = new Date(now.getTime() + 1_000);
    await deliverAllSiem(harness.deps);
    expect((await listSiemDestinations(harness, adminToken))[0]).toMatchObject({ status: 'current' });

    // A receiver asking for a day (as an HTTP date) is tried again after the operator's longest wait.
    await auditEvents(workspaceId, agents[0]!.id, 1);
    hec.failWith = 503;
    hec.retryAfter = new Date(now.getTime() + 86_400_000).toUTCString();
    await deliverAllSiem(harness.deps);
    const [capped] = await listSiemDestinations(harness, adminToken);
    expect(capped).toMatchObject({ status: 'failing', lastError: 'HTTP 503 from the destination' });
    expect(Date.parse(capped!.nextAttemptAt) - now.getTime()).toBe(60_000);
  });

  it('takes a redirect as a failure, not as the acknowledgement of the page it leads to', async () => {
    // A proxy in front of the collector sends a sign-in redirect: followed, the POST became a GET of
    // the sign-in page, its 200 moved the cursor, and the collector never had the events.
    const { workspaceId, adminToken } = await seedWorkspace(harness);
    const proxy = await startSignInProxy();
    try {
      await api(harness, 'POST', '/v1/admin/siem-destinations', {
        token: adminToken,
        body: { name: 'behind-sso', kind: 'otlp', url: `${proxy.origin}/v1/logs` },
      });
      await deliverAllSiem(harness.deps);
      expect(proxy.requests).toEqual(['POST /v1/logs']);
      expect(await listSiemDestinations(harness, adminToken)).toMatchObject([
        { status: 'failing', cursorSeq: 0, lastError: 'HTTP 302 from the destination' },
      ]);
      expect((await chain(workspaceId)).length).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });

  it('keeps what a receiver acknowledged when it fails part-way through a backlog, and goes on from there', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    await auditEvents(workspaceId, agents[0]!.id, 20);
    let requests = 0;
    const otlp: SiemReceiver = await startSiemReceiver({
      kind: 'otlp',
      onEvents: () => {
        if (++requests === 2) otlp.failWith = 503;
      },
    });
    receivers.push(otlp);
    await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: adminToken,
      body: { name: 'collector', kind: 'otlp', url: otlp.url },
    });
    await deliverAllSiem(harness.deps);
    const stored = await chain(workspaceId);
    const [listed] = await listSiemDestinations(harness, adminToken);
    expect(listed).toMatchObject({ status: 'failing', cursorSeq: otlp.received.at(-1)!.seq });
    expect(otlp.received).toEqual(stored.slice(0, otlp.received.length));
    // Two accepted and the refused third: the batch read ahead while the third was on the wire never went.
    expect(otlp.requests).toBe(3);

    otlp.failWith = undefined;
    now = new Date(now.getTime() + 1_500);
    await deliverAllSiem(harness.deps);
    expect(otlp.received).toEqual(stored);
  });

  it('sends one batch per claim and gives the destination back when told to stop for agents, then goes on from there', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    await auditEvents(workspaceId, agents[0]!.id, 20);
    const otlp = await receiver('otlp');
    await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: adminToken,
      body: { name: 'collector', kind: 'otlp', url: otlp.url },
    });
    const delivery = {
      holder: 'server-a',
      leaseMs: 30_000,
      requestTimeoutMs: 5_000,
      retryMaxMs: 60_000,
      eventsPerRequest: 7,
    };

    // Agents already at work when the claim starts: one batch, and the lease is free again at once.
    const first = await deliverToDueSiemDestination(harness.deps, delivery, { stopWhen: () => true });
    // Agents arriving while the first batch is on the wire: the claim ends after it too.
    let asked = 0;
    const second = await deliverToDueSiemDestination(harness.deps, delivery, { stopWhen: () => ++asked > 1 });

    const stored = await chain(workspaceId);
    expect([first, second]).toEqual([
      { claimed: true, delivered: 7 },
      { claimed: true, delivered: 7 },
    ]);
    expect(otlp.received).toEqual(stored.slice(0, 14));
    await deliverAllSiem(harness.deps);
    expect(otlp.received).toEqual(stored);
  });

  it('sends nothing more once another server has taken the destination over, not even the batch read ahead', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    await auditEvents(workspaceId, agents[0]!.id, 20);
    let id = '';
    // While the first batch is on the wire, the lease passes to server-b (as when it lapsed and was claimed).
    const otlp: SiemReceiver = await startSiemReceiver({
      kind: 'otlp',
      onEvents: async () => {
        if (otlp.requests === 1)
          await harness.deps.db
            .update(siemDestinations)
            .set({ leaseHolder: 'server-b' })
            .where(eq(siemDestinations.id, id));
      },
    });
    receivers.push(otlp);
    const added = await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: adminToken,
      body: { name: 'collector', kind: 'otlp', url: otlp.url },
    });
    id = added.body.id;
    const delivery = {
      holder: 'server-a',
      leaseMs: 30_000,
      requestTimeoutMs: 5_000,
      retryMaxMs: 60_000,
      eventsPerRequest: 7,
    };

    await deliverToDueSiemDestination(harness.deps, delivery);

    expect(otlp.requests).toBe(1);
    // server-a's acknowledgement is not recorded: server-b sends from the cursor it finds.
    expect((await listSiemDestinations(harness, adminToken))[0]).toMatchObject({ cursorSeq: 0 });
    await harness.deps.db
      .update(siemDestinations)
      .set({ leaseExpiresAt: new Date(now.getTime() - 1) })
      .where(eq(siemDestinations.id, id));
    await deliverAllSiem(harness.deps, 'server-b');
    const stored = await chain(workspaceId);
    expect(otlp.received).toEqual([...stored.slice(0, 7), ...stored]);
  });

  it('sends each batch once when two servers stream the same destinations at once', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const targets = [await receiver('otlp'), await receiver('otlp'), await receiver('otlp')];
    for (const [index, target] of targets.entries())
      await api(harness, 'POST', '/v1/admin/siem-destinations', {
        token: adminToken,
        body: { name: `collector-${index}`, kind: 'otlp', url: target.url },
      });
    await auditEvents(workspaceId, agents[0]!.id, 30);

    await Promise.all([deliverAllSiem(harness.deps, 'server-a'), deliverAllSiem(harness.deps, 'server-b')]);

    const stored = await chain(workspaceId);
    for (const target of targets) expect(target.received).toEqual(stored);
  });
});

describe('SIEM destinations over the admin API', () => {
  it('stores the secret sealed and never returns it', async () => {
    const { adminToken } = await seedWorkspace(harness);
    const webhook = await receiver('webhook', WEBHOOK_SECRET);
    const added = await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: adminToken,
      body: { name: 'hook', kind: 'webhook', url: webhook.url, secret: WEBHOOK_SECRET },
    });
    const listed = await api(harness, 'GET', '/v1/admin/siem-destinations', { token: adminToken });
    expect(added.body.hasSecret).toBe(true);
    expect(JSON.stringify([added.body, listed.body])).not.toContain(WEBHOOK_SECRET);
    const rows = await harness.deps.db.select().from(siemDestinations);
    const row = rows.find((candidate) => candidate.id === added.body.id)!;
    expect(row.secretEnc).not.toContain(WEBHOOK_SECRET);
    expect(harness.deps.secrets.open(row.secretEnc!)).toBe(WEBHOOK_SECRET);
  });

  it('refuses a webhook whose receiver checks the signature with another secret, and moves no cursor', async () => {
    const { adminToken } = await seedWorkspace(harness);
    const webhook = await receiver('webhook', 'the-receiver-knows-another-secret-entirely');
    await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: adminToken,
      body: { name: 'hook', kind: 'webhook', url: webhook.url, secret: WEBHOOK_SECRET },
    });
    await deliverAllSiem(harness.deps);
    expect(webhook.refused).toBe(1);
    expect((await listSiemDestinations(harness, adminToken))[0]).toMatchObject({ status: 'failing', cursorSeq: 0 });
  });

  it.each([
    ['a plain http URL to another host', { kind: 'otlp', url: 'http://collector.example.com/v1/logs' }, 'url'],
    [
      'a HEC without its token',
      { kind: 'splunk_hec', url: 'https://splunk.example.com:8088/services/collector/event' },
      'secret',
    ],
    [
      'a webhook with a short secret',
      { kind: 'webhook', url: 'https://siem.example.com/in', secret: 'short' },
      'secret',
    ],
    ['an unknown kind', { kind: 'syslog', url: 'https://siem.example.com/in' }, 'kind'],
    [
      'a URL with a user and password, which every settings reader and the audit chain would show',
      { kind: 'otlp', url: 'https://collector:s3cret@otel.example.com/v1/logs' },
      'url',
    ],
    [
      'a URL with a token in its query, which every settings reader and the audit chain would show',
      { kind: 'otlp', url: 'https://otel.example.com/v1/logs?region=eu&dd-api-key=s3cret' },
      'url',
    ],
  ])('refuses %s with VALIDATION_FAILED naming the field', async (_what, body, field) => {
    const { adminToken } = await seedWorkspace(harness);
    const response = await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: adminToken,
      body: { name: 'bad', ...body },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.message).toContain(field);
    expect(await listSiemDestinations(harness, adminToken)).toEqual([]);
  });

  it('refuses a second destination of the same name, and removes one with an audit event', async () => {
    const { workspaceId, adminToken } = await seedWorkspace(harness);
    const body = { name: 'collector', kind: 'otlp', url: 'https://otel.example.com/v1/logs' };
    const first = await api(harness, 'POST', '/v1/admin/siem-destinations', { token: adminToken, body });
    const second = await api(harness, 'POST', '/v1/admin/siem-destinations', { token: adminToken, body });
    expect(second.status).toBe(409);
    const removed = await api(harness, 'DELETE', `/v1/admin/siem-destinations/${first.body.id}`, { token: adminToken });
    expect(removed.status).toBe(204);
    expect(await listSiemDestinations(harness, adminToken)).toEqual([]);
    const again = await api(harness, 'DELETE', `/v1/admin/siem-destinations/${first.body.id}`, { token: adminToken });
    expect(again.status).toBe(404);
    expect((await chain(workspaceId)).map((event) => event.type).slice(-2)).toEqual([
      'siem_destination.added',
      'siem_destination.removed',
    ]);
  });

  /** A destination saved before URLs with a user or password were refused: written as its row was, not through the API. */
  async function savedWithCredentials(workspaceId: string, url: string): Promise<string> {
    const id = randomUUID();
    await harness.deps.db.insert(siemDestinations).values({
      id,
      workspaceId,
      name: 'old-collector',
      kind: 'otlp',
      url,
      downAfterSeconds: 900,
      cursorSeq: 0,
      nextAttemptAt: now,
    });
    return id;
  }

  it('shows a URL saved with a user and password as ***@ in its list, its removal event too, and still delivers with them', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const otlp = await receiver('otlp');
    const stored = otlp.url.replace('http://', 'http://collector:s3cret@');
    const id = await savedWithCredentials(workspaceId, stored);
    await auditEvents(workspaceId, agents[0]!.id, 2);

    const listed = await listSiemDestinations(harness, adminToken);
    expect(listed.map((d) => d.url)).toEqual([otlp.url.replace('http://', 'http://***@')]);
    expect(JSON.stringify(listed)).not.toContain('s3cret');

    await deliverAllSiem(harness.deps);
    expect(otlp.received).toEqual(await chain(workspaceId));
    expect(new Set(otlp.authorizations)).toEqual(
      new Set([`Basic ${Buffer.from('collector:s3cret').toString('base64')}`]),
    );

    await api(harness, 'DELETE', `/v1/admin/siem-destinations/${id}`, { token: adminToken });
    const events = [];
    for await (const event of streamAuditEvents(harness.deps.db, workspaceId)) events.push(event);
    const removal = events.find((event) => event.type === 'siem_destination.removed');
    expect(removal?.before).toMatchObject({ id, url: otlp.url.replace('http://', 'http://***@') });
    expect(JSON.stringify(removal)).not.toContain('s3cret');
  });

  it('shows a URL saved with a token in its query with the token as ***, in its list and its removal event, and refuses it sent back', async () => {
    const { workspaceId, adminToken } = await seedWorkspace(harness);
    const id = await savedWithCredentials(
      workspaceId,
      'https://otel.example.com/v1/logs?region=eu&access_token=s3cret',
    );

    const listed = await listSiemDestinations(harness, adminToken);
    expect(listed.map((d) => d.url)).toEqual(['https://otel.example.com/v1/logs?region=eu&access_token=***']);

    await api(harness, 'DELETE', `/v1/admin/siem-destinations/${id}`, { token: adminToken });
    const resent = await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: adminToken,
      body: { name: 'collector', kind: 'otlp', url: listed[0]!.url },
    });
    expect(resent.status).toBe(400);
    expect(resent.body.error.message).toMatch(/url.*hidden as \*\*\*.*cannot be copied.*secret/);
    const events = [];
    for await (const event of streamAuditEvents(harness.deps.db, workspaceId)) events.push(event);
    const removal = events.find((event) => event.type === 'siem_destination.removed');
    expect(removal?.before).toMatchObject({ id, url: 'https://otel.example.com/v1/logs?region=eu&access_token=***' });
    expect(JSON.stringify(events)).not.toContain('s3cret');
  });

  it('refuses a listed URL sent back to re-create a destination, saying the hidden credentials cannot be copied, and keeps the stored ones', async () => {
    const { workspaceId, adminToken } = await seedWorkspace(harness);
    const stored = 'https://collector:s3cret@otel.example.com/v1/logs';
    await savedWithCredentials(workspaceId, stored);
    const [listed] = await listSiemDestinations(harness, adminToken);

    const resent = await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: adminToken,
      body: { name: 'collector', kind: 'otlp', url: listed!.url },
    });
    expect(resent.status).toBe(400);
    expect(resent.body.error.code).toBe('VALIDATION_FAILED');
    expect(resent.body.error.message).toMatch(/url.*hidden as \*\*\*.*cannot be copied.*secret/);
    const rows = await harness.deps.db
      .select()
      .from(siemDestinations)
      .where(eq(siemDestinations.workspaceId, workspaceId));
    expect(rows.map((row) => row.url)).toEqual([stored]);
  });

  it('answers 401 without the admin token, and another workspace’s admin sees none of these destinations', async () => {
    const mine = await seedWorkspace(harness);
    const theirs = await seedWorkspace(harness);
    await api(harness, 'POST', '/v1/admin/siem-destinations', {
      token: mine.adminToken,
      body: { name: 'collector', kind: 'otlp', url: 'https://otel.example.com/v1/logs' },
    });
    expect((await api(harness, 'GET', '/v1/admin/siem-destinations')).status).toBe(401);
    expect(await listSiemDestinations(harness, theirs.adminToken)).toEqual([]);
  });
});
