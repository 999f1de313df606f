import { eq } from 'drizzle-orm';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bootstrapWorkspace,
  publishPolicy,
  removeWorkspace,
  setKillSwitch,
} from '../../server/src/services/governance/index.ts';
import { deliverToDueSiemDestination } from '../../server/src/services/siem/index.ts';
import { processWebhookEvents } from '../../server/src/services/webhooks/index.ts';
import { alertChannels, alertDeliveries, auditEvents } from '../../server/src/store/schema.ts';
import { editAsPerson, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { ALERT_CONSOLE_URL, ALERT_DELIVERY, runAlertJobs } from '../support/alert-jobs.ts';
import { startHookReceiver, startSmtpSink, type HookReceiver, type SmtpSink } from '../support/alert-receivers.ts';
import { decide, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { seedContacts, submitTitles } from '../support/rollbacks.ts';
import { deliver, propertyChange, seedWebhookWorkspace } from '../support/webhooks.ts';
import { startSignInProxy } from '../support/sign-in-proxy.ts';

const CONSOLE = ALERT_CONSOLE_URL;
const WEBHOOK_SECRET = 'an-alert-webhook-secret-of-32-chars!';
const SMTP_USER = 'alerts';
const SMTP_PASSWORD = 'smtp-password-never-shown';

// Real time moved by hand: the signed webhook's receiver refuses a timestamp far from its own clock.
let now = new Date();
let harness: Harness;
let closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  harness = await startHarness({ clock: () => now });
});
afterAll(() => harness.close());
afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
  now = new Date();
});

async function hook(secret?: string): Promise<HookReceiver> {
  const receiver = await startHookReceiver(secret ? { secret } : {});
  closers.push(receiver.close);
  return receiver;
}

async function smtpSink(): Promise<SmtpSink> {
  const sink = await startSmtpSink({ user: SMTP_USER, password: SMTP_PASSWORD });
  closers.push(sink.close);
  return sink;
}

async function addChannel(adminToken: string, body: Record<string, unknown>): Promise<string> {
  const res = await api(harness, 'POST', '/v1/admin/alert-channels', { token: adminToken, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function addRule(adminToken: string, body: Record<string, unknown>) {
  const res = await api(harness, 'POST', '/v1/admin/alert-rules', { token: adminToken, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; cursorSeq: number };
}

async function raisedAlerts(workspaceId: string) {
  const rows = await harness.deps.db.select().from(auditEvents).where(eq(auditEvents.workspaceId, workspaceId));
  return rows.filter((row) => row.type === 'alert.raised').map((row) => row.data as Record<string, unknown>);
}

const engage = (workspaceId: string, agentId: string, reason: string, engaged = true) =>
  setKillSwitch(harness.deps, workspaceId, { scope: 'agent', target: agentId, engaged, reason }, ADMIN);

/** Adds a SIEM destination named `name` that never answers and streams to it past its `downAfterSeconds`. */
async function takeSiemDestinationDown(
  ws: { workspaceId: string; adminToken: string; agentId: string },
  name: string,
): Promise<void> {
  const added = await api(harness, 'POST', '/v1/admin/siem-destinations', {
    token: ws.adminToken,
    // Nothing listens on port 9 (discard) on loopback: every attempt fails.
    body: { name, kind: 'otlp', url: 'http://127.0.0.1:9/v1/logs', downAfterSeconds: 10 },
  });
  expect(added.status).toBe(201);
  await engage(ws.workspaceId, ws.agentId, 'an event to stream');
  const siem = { holder: 's', leaseMs: 30_000, requestTimeoutMs: 2_000, retryMaxMs: 5_000, eventsPerRequest: 10 };
  await deliverToDueSiemDestination(harness.deps, siem);
  now = new Date(now.getTime() + 11_000);
  await deliverToDueSiemDestination(harness.deps, siem);
}

describe('alerts to people', () => {
  it('tells Slack, Teams, email and the signed webhook that a kill switch was engaged, to whom, with the console link, and audits it', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const [slack, teams, webhook, smtp] = [await hook(), await hook(), await hook(WEBHOOK_SECRET), await smtpSink()];
    await addChannel(adminToken, { name: 'ops-slack', kind: 'slack', url: slack.url });
    await addChannel(adminToken, { name: 'ops-teams', kind: 'teams', url: teams.url });
    await addChannel(adminToken, { name: 'siem-hook', kind: 'webhook', url: webhook.url, secret: WEBHOOK_SECRET });
    await addChannel(adminToken, {
      name: 'on-call',
      kind: 'email',
      smtp: { host: '127.0.0.1', port: smtp.port, user: SMTP_USER, password: SMTP_PASSWORD },
      from: 'governance@example.com',
      to: ['oncall@example.com', 'cto@example.com'],
    });
    await addRule(adminToken, {
      name: 'switches',
      kind: 'kill_switch_engaged',
      channels: ['ops-slack', 'ops-teams', 'siem-hook', 'on-call'],
    });

    const agent = agents[0]!;
    await engage(workspaceId, agent.id, 'wrote junk titles');
    await runAlertJobs(harness.deps);

    const [raised] = await raisedAlerts(workspaceId);
    const engagedSeq = (
      await harness.deps.db.select().from(auditEvents).where(eq(auditEvents.workspaceId, workspaceId))
    ).find((row) => row.type === 'kill_switch.engaged')!.seq;
    const link = `${CONSOLE}/audit/${engagedSeq}`;
    expect(raised).toMatchObject({
      rule: 'switches',
      kind: 'kill_switch_engaged',
      subject: `agent:${agent.id}`,
      title: 'Kill switch engaged',
      about: `agent ${agent.id}`,
      link,
    });
    expect(String(raised!.text)).toContain('wrote junk titles');

    expect(slack.received).toHaveLength(1);
    expect(String(slack.received[0]!.text)).toContain('Kill switch engaged');
    expect(JSON.stringify(slack.received[0]!.blocks)).toContain(link);
    expect(teams.received).toHaveLength(1);
    expect(teams.received[0]).toMatchObject({ '@type': 'MessageCard', title: 'Kill switch engaged' });
    expect(JSON.stringify(teams.received[0]!.potentialAction)).toContain(link);
    expect(webhook.refused).toBe(0);
    expect(webhook.received).toEqual([{ alert: expect.objectContaining({ title: 'Kill switch engaged', link }) }]);
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]).toMatchObject({
      from: 'governance@example.com',
      to: ['oncall@example.com', 'cto@example.com'],
      user: SMTP_USER,
    });
    expect(smtp.received[0]!.raw).toContain('Subject: [Agent Governance] Kill switch engaged');
    expect(smtp.received[0]!.raw).toContain(link);

    const listed = await api(harness, 'GET', '/v1/admin/alerts', { token: adminToken });
    expect(listed.body.alerts.map((a: { status: string }) => a.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
  });

  it('shows a CRM value safely in Slack, Teams and email, while the stored alert and the signed webhook keep its exact bytes', async () => {
    const ws = await seedWebhookWorkspace(harness);
    await publishPolicy(harness.deps, ws.workspaceId, EXAMPLE_POLICY, ADMIN);
    const [slack, teams, webhook, smtp] = [await hook(), await hook(), await hook(WEBHOOK_SECRET), await smtpSink()];
    await addChannel(ws.adminToken, { name: 'ops-slack', kind: 'slack', url: slack.url });
    await addChannel(ws.adminToken, { name: 'ops-teams', kind: 'teams', url: teams.url });
    await addChannel(ws.adminToken, { name: 'soc', kind: 'webhook', url: webhook.url, secret: WEBHOOK_SECRET });
    await addChannel(ws.adminToken, {
      name: 'on-call',
      kind: 'email',
      smtp: { host: '127.0.0.1', port: smtp.port, user: SMTP_USER, password: SMTP_PASSWORD },
      from: 'governance@example.com',
      to: ['oncall@example.com'],
    });
    await addRule(ws.adminToken, {
      name: 'bypass',
      kind: 'bypass_writes',
      channels: ['ops-slack', 'ops-teams', 'soc', 'on-call'],
    });

    // What anyone with CRM access can set: reversed text, a link in Markdown and in HTML, a line of its own, 64 KiB.
    const value = `\u202Emoc.elpmaxe@oec [Reset your password](https://evil.example) <a href="https://evil.example">sign in</a>\nOpen in the console: https://evil.example ${'y'.repeat(65_000)} the end`;
    const event = propertyChange(ws.portalId, {
      changeSource: 'INTEGRATION',
      sourceId: '555000',
      propertyValue: value,
    });
    expect((await deliver(harness, [event], { clientSecret: ws.clientSecret })).status).toBe(200);
    while ((await processWebhookEvents(harness.deps)) > 0);
    await runAlertJobs(harness.deps);

    const [raised] = await raisedAlerts(ws.workspaceId);
    expect(String(raised!.text)).toContain(`"${value}"`);
    const outbox = await harness.deps.db
      .select()
      .from(alertDeliveries)
      .where(eq(alertDeliveries.workspaceId, ws.workspaceId));
    expect(outbox.map((row) => row.alert.text)).toEqual(Array(4).fill(raised!.text));
    expect(webhook.received).toEqual([{ alert: expect.objectContaining({ text: raised!.text }) }]);

    const reversedShown = '"⟨U+202E⟩moc.elpmaxe@oec';
    const section = (slack.received[0]!.blocks as { text?: { text: string; verbatim?: boolean } }[])[1]!.text!;
    expect(section.verbatim).toBe(true);
    expect(section.text.length).toBeLessThanOrEqual(3_000);
    expect(section.text).toContain(
      `${reversedShown} [Reset your password](https://evil.example) &lt;a href="https://evil.example"&gt;sign in&lt;/a&gt;⟨U+000A⟩Open in the console`,
    );
    expect(section.text).toMatch(/characters not shown\) … y+ the end" by /);

    const card = teams.received[0] as { text: string; potentialAction: unknown };
    expect(card.text).not.toMatch(/\[Reset|<a |\u202E/);
    expect(card.text).toContain(
      '⟨U+202E⟩moc.elpmaxe@oec &#91;Reset your password&#93;(https://evil.example) &#60;a href=&#34;',
    );
    expect(card.text.length).toBeLessThanOrEqual(3_000);
    expect(JSON.stringify(card.potentialAction)).toContain(`${CONSOLE}/records/contacts/1001`);

    const mail = smtp.received[0]!;
    expect(mail.text).toContain(
      `${reversedShown} [Reset your password](https://evil.example) <a href="https://evil.example">sign in</a>⟨U+000A⟩Open in the console: https://evil.example yyy`,
    );
    expect(mail.text).not.toContain('\u202E');
    expect(mail.text.match(/^Open in the console: .*$/gm)).toEqual([
      `Open in the console: ${CONSOLE}/records/contacts/1001`,
    ]);
    expect(mail.text.length).toBeLessThan(3_000);
  });

  it('keeps a line break in what an alert is about out of the email’s headers, showing it in the subject', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const smtp = await smtpSink();
    await addChannel(adminToken, {
      name: 'on-call',
      kind: 'email',
      smtp: { host: '127.0.0.1', port: smtp.port, user: SMTP_USER, password: SMTP_PASSWORD },
      from: 'governance@example.com',
      to: ['oncall@example.com'],
    });
    await addRule(adminToken, { name: 'siem', kind: 'siem_destination_down', channels: ['on-call'] });
    await takeSiemDestinationDown(
      { workspaceId, adminToken, agentId: agents[0]!.id },
      'collector\r\nBcc: attacker@evil.example',
    );
    await runAlertJobs(harness.deps);

    const [raised] = await raisedAlerts(workspaceId);
    expect(raised!.about).toBe('SIEM destination collector\r\nBcc: attacker@evil.example');
    const mail = smtp.received[0]!;
    expect(mail.to).toEqual(['oncall@example.com']);
    expect(mail.raw).not.toMatch(/^Bcc:/im);
    expect(mail.subject).toBe(
      '[Agent Governance] SIEM destination down: SIEM destination collector⟨U+000D⟩⟨U+000A⟩Bcc: attacker@evil.example',
    );
  });

  it('relies on a mailer that folds a line break in a subject into a space, never into a header of its own', async () => {
    const smtp = await smtpSink();
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: smtp.port,
      secure: false,
      auth: { user: SMTP_USER, pass: SMTP_PASSWORD },
    });
    await transport.sendMail({
      from: 'governance@example.com',
      to: 'oncall@example.com',
      subject: 'Alert: collector\r\nBcc: attacker@evil.example\nX-Injected: yes',
      text: 'body',
    });
    transport.close();
    expect(smtp.received[0]!.to).toEqual(['oncall@example.com']);
    expect(smtp.received[0]!.raw).not.toMatch(/^(Bcc|X-Injected):/im);
    expect(smtp.received[0]!.subject).toBe('Alert: collector Bcc: attacker@evil.example X-Injected: yes');
  });

  it('never returns or stores in the clear a channel’s URL, signing secret or SMTP password', async () => {
    const { adminToken } = await seedWorkspace(harness);
    const secretUrl = 'https://hooks.example.com/services/T0/B0/very-secret-path';
    await addChannel(adminToken, { name: 'slack', kind: 'slack', url: secretUrl });
    await addChannel(adminToken, { name: 'hook', kind: 'webhook', url: secretUrl, secret: WEBHOOK_SECRET });
    await addChannel(adminToken, {
      name: 'mail',
      kind: 'email',
      smtp: { host: 'smtp.example.com', user: SMTP_USER, password: SMTP_PASSWORD },
      from: 'a@example.com',
      to: ['b@example.com'],
    });
    const listed = await api(harness, 'GET', '/v1/admin/alert-channels', { token: adminToken });
    const shown = JSON.stringify(listed.body);
    expect(listed.body.channels).toHaveLength(3);
    for (const secret of [secretUrl, WEBHOOK_SECRET, SMTP_PASSWORD]) expect(shown).not.toContain(secret);
    expect(listed.body.channels.find((c: { name: string }) => c.name === 'mail').settings).toEqual({
      smtpHost: 'smtp.example.com',
      smtpPort: 587,
      smtpSecure: false,
      smtpUser: SMTP_USER,
      from: 'a@example.com',
      to: ['b@example.com'],
    });
    const stored = JSON.stringify(await harness.deps.db.select().from(alertChannels));
    for (const secret of [secretUrl, WEBHOOK_SECRET, SMTP_PASSWORD]) expect(stored).not.toContain(secret);
    const audited = JSON.stringify(await harness.deps.db.select().from(auditEvents));
    for (const secret of [secretUrl, WEBHOOK_SECRET, SMTP_PASSWORD]) expect(audited).not.toContain(secret);
  });

  it('raises one alert per rule and subject per window, and says how many it held back', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness, ['enrichment', 'enrichment']);
    const slack = await hook();
    await addChannel(adminToken, { name: 'slack', kind: 'slack', url: slack.url });
    await addRule(adminToken, {
      name: 'switches',
      kind: 'kill_switch_engaged',
      channels: ['slack'],
      windowMinutes: 30,
    });
    const [first, second] = [agents[0]!.id, agents[1]!.id];
    for (let i = 0; i < 3; i++) {
      await engage(workspaceId, first, `storm ${i}`);
      await engage(workspaceId, first, 'released', false);
    }
    await engage(workspaceId, second, 'another agent');
    await runAlertJobs(harness.deps);
    expect((await raisedAlerts(workspaceId)).map((a) => a.subject)).toEqual([`agent:${first}`, `agent:${second}`]);
    expect(slack.received).toHaveLength(2);

    now = new Date(now.getTime() + 31 * 60_000);
    await engage(workspaceId, first, 'after the window');
    await runAlertJobs(harness.deps);
    const alerts = await raisedAlerts(workspaceId);
    expect(alerts).toHaveLength(3);
    expect(alerts[2]).toMatchObject({ subject: `agent:${first}`, suppressed: 2 });
    expect(String(alerts[2]!.text)).toContain('after the window');
  });

  it('tells a kill trigger firing apart from a switch engaged by hand', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const slack = await hook();
    await addChannel(adminToken, { name: 'slack', kind: 'slack', url: slack.url });
    await addRule(adminToken, { name: 'triggers', kind: 'kill_trigger_fired', channels: ['slack'] });
    await engage(workspaceId, agents[0]!.id, 'by hand');
    await setKillSwitch(
      harness.deps,
      workspaceId,
      { scope: 'workspace', engaged: true, reason: 'Kill trigger bypass_writes: 9 CRM writes around the API' },
      { type: 'system', name: 'kill-trigger' },
    );
    await runAlertJobs(harness.deps);
    expect(await raisedAlerts(workspaceId)).toEqual([
      expect.objectContaining({
        title: 'Kill trigger fired',
        subject: 'workspace:',
        about: 'every agent in the workspace',
      }),
    ]);
  });

  it('keeps an alert while its channel is down, retries with backoff, and records giving up in the audit log', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness, ['enrichment', 'enrichment']);
    const slack = await hook();
    slack.failWith = 503;
    await addChannel(adminToken, { name: 'slack', kind: 'slack', url: slack.url });
    await addRule(adminToken, { name: 'switches', kind: 'kill_switch_engaged', channels: ['slack'] });
    await engage(workspaceId, agents[0]!.id, 'first');
    await runAlertJobs(harness.deps);
    let [listed] = (await api(harness, 'GET', '/v1/admin/alerts', { token: adminToken })).body.alerts;
    expect(listed).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 503 from the channel' });

    // Not due again before its backoff, then sent once the channel answers.
    await runAlertJobs(harness.deps);
    expect((await api(harness, 'GET', '/v1/admin/alerts', { token: adminToken })).body.alerts[0].attempts).toBe(1);
    slack.failWith = undefined;
    now = new Date(now.getTime() + 1_000);
    await runAlertJobs(harness.deps);
    [listed] = (await api(harness, 'GET', '/v1/admin/alerts', { token: adminToken })).body.alerts;
    expect(listed).toMatchObject({ status: 'sent', attempts: 2, lastError: null });
    expect(slack.received).toHaveLength(1);

    slack.failWith = 500;
    await engage(workspaceId, agents[1]!.id, 'second');
    for (let i = 0; i < ALERT_DELIVERY.maxAttempts; i++) {
      await runAlertJobs(harness.deps);
      now = new Date(now.getTime() + ALERT_DELIVERY.retryMaxMs);
    }
    [listed] = (await api(harness, 'GET', '/v1/admin/alerts', { token: adminToken })).body.alerts;
    expect(listed).toMatchObject({ status: 'failed', attempts: 3 });
    const undelivered = (
      await harness.deps.db.select().from(auditEvents).where(eq(auditEvents.workspaceId, workspaceId))
    ).filter((row) => row.type === 'alert.undelivered');
    expect(undelivered).toHaveLength(1);
    expect(undelivered[0]!.data).toMatchObject({
      channel: { name: 'slack' },
      attempts: 3,
      lastError: 'HTTP 500 from the channel',
    });
  });

  it('waits as long as a channel’s 429 asks (Retry-After) before sending the alert again', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const slack = await hook();
    slack.failWith = 429;
    slack.retryAfter = '30';
    await addChannel(adminToken, { name: 'slack', kind: 'slack', url: slack.url });
    await addRule(adminToken, { name: 'switches', kind: 'kill_switch_engaged', channels: ['slack'] });
    await engage(workspaceId, agents[0]!.id, 'throttled');
    await runAlertJobs(harness.deps);
    const listed = async () => (await api(harness, 'GET', '/v1/admin/alerts', { token: adminToken })).body.alerts[0];
    expect(await listed()).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 429 from the channel' });

    // Past the 1 s its backoff alone would wait, not yet past the 30 s Slack asked for.
    slack.failWith = undefined;
    now = new Date(now.getTime() + 29_000);
    await runAlertJobs(harness.deps);
    expect(await listed()).toMatchObject({ status: 'pending', attempts: 1 });
    now = new Date(now.getTime() + 1_000);
    await runAlertJobs(harness.deps);
    expect(await listed()).toMatchObject({ status: 'sent', attempts: 2 });
    expect(slack.received).toHaveLength(1);
  });

  it('takes a redirect as a failure, not as the delivery of the page it leads to', async () => {
    // A proxy in front of the channel sends a sign-in redirect: followed, the POST became a GET of
    // the sign-in page, whose 200 marked the alert sent while nobody was told.
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const proxy = await startSignInProxy();
    closers.push(proxy.close);
    await addChannel(adminToken, { name: 'slack', kind: 'slack', url: `${proxy.origin}/hooks/alerts` });
    await addRule(adminToken, { name: 'switches', kind: 'kill_switch_engaged', channels: ['slack'] });
    await engage(workspaceId, agents[0]!.id, 'stop');
    await runAlertJobs(harness.deps);
    expect(proxy.requests).toEqual(['POST /hooks/alerts']);
    const [listed] = (await api(harness, 'GET', '/v1/admin/alerts', { token: adminToken })).body.alerts;
    expect(listed).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 302 from the channel' });
  });

  it('alerts when a SIEM destination is down, linking to the audit event', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    const slack = await hook();
    await addChannel(adminToken, { name: 'slack', kind: 'slack', url: slack.url });
    await addRule(adminToken, { name: 'siem', kind: 'siem_destination_down', channels: ['slack'] });
    await takeSiemDestinationDown({ workspaceId, adminToken, agentId: agents[0]!.id }, 'collector');
    await runAlertJobs(harness.deps);
    const [alert] = await raisedAlerts(workspaceId);
    expect(alert).toMatchObject({ title: 'SIEM destination down', about: 'SIEM destination collector' });
    expect(String(alert!.link)).toMatch(new RegExp(`^${CONSOLE}/audit/\\d+$`));
    expect(slack.received).toHaveLength(1);
  });

  it('alerts when the CRM refuses our credentials and when approvals wait too long', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    await bootstrapWorkspace(harness.deps, workspaceId, ADMIN);
    const slack = await hook();
    await addChannel(adminToken, { name: 'slack', kind: 'slack', url: slack.url });
    await addRule(adminToken, { name: 'auth', kind: 'crm_auth_failed', channels: ['slack'] });
    await addRule(adminToken, {
      name: 'waiting',
      kind: 'approvals_waiting',
      params: { hours: 2 },
      channels: ['slack'],
    });
    const token = agents[0]!.token;
    const record = seedRecord(harness.hubspot.state, 'contacts', {
      properties: { email: 'ada@example.com', phone: '+1 555 0100' },
    });
    const evidence = { source: 'clearbit', url: 'https://example.com/p/1', confidence: 0.92, reason: 'Site says so' };
    const held = await api(harness, 'POST', '/v1/changesets', {
      token,
      body: {
        batchId: 'held-1',
        objectType: 'contacts',
        changes: [{ recordId: record, properties: { phone: '+1 555 0199' }, evidence }],
      },
    });
    expect(held.body.summary).toMatchObject({ pending_approval: 1 });

    // The token is revoked in the CRM between the change set's reads and its write.
    harness.hubspot.faults.failNext(1, { status: 401 }, 'POST /crm/v3/objects/{type}/batch/update');
    const refused = await api(harness, 'POST', '/v1/changesets', {
      token,
      body: {
        batchId: 'auth-1',
        objectType: 'contacts',
        changes: [{ recordId: record, properties: { jobtitle: 'CTO' }, evidence }],
      },
    });
    expect(refused.body.results[0]).toMatchObject({ decision: 'failed', reasons: ['tier_auto', 'crm_auth_failed'] });
    await runAlertJobs(harness.deps);
    expect(await raisedAlerts(workspaceId)).toEqual([
      expect.objectContaining({
        title: 'CRM refused our credentials',
        text: `A write of agent ${agents[0]!.id} to contacts ${record} failed: the CRM refused our credentials. Nothing reaches the CRM until the workspace is reconnected.`,
        link: `${CONSOLE}/batches/auth-1`,
      }),
    ]);

    now = new Date(now.getTime() + 3 * 3_600_000);
    await runAlertJobs(harness.deps);
    const alerts = await raisedAlerts(workspaceId);
    expect(alerts[1]).toMatchObject({ title: 'Approvals waiting', link: `${CONSOLE}/inbox` });
    expect(String(alerts[1]!.text)).toContain('1 proposal has waited');
  });

  it('stops evaluating the rules of a removed workspace', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    await bootstrapWorkspace(harness.deps, workspaceId, ADMIN);
    const slack = await hook();
    await addChannel(adminToken, { name: 'slack', kind: 'slack', url: slack.url });
    await addRule(adminToken, {
      name: 'waiting',
      kind: 'approvals_waiting',
      params: { hours: 2 },
      channels: ['slack'],
    });
    const record = seedRecord(harness.hubspot.state, 'contacts', { properties: { phone: '+1 555 0100' } });
    const held = await api(harness, 'POST', '/v1/changesets', {
      token: agents[0]!.token,
      body: {
        batchId: 'held-before-removal',
        objectType: 'contacts',
        changes: [
          {
            recordId: record,
            properties: { phone: '+1 555 0199' },
            evidence: { source: 'clearbit', url: 'https://example.com/p/1', confidence: 0.92, reason: 'Site says so' },
          },
        ],
      },
    });
    expect(held.body.summary).toMatchObject({ pending_approval: 1 });
    await removeWorkspace(harness.deps, workspaceId, { force: true }, ADMIN);

    now = new Date(now.getTime() + 3 * 3_600_000);
    await runAlertJobs(harness.deps);
    expect(await raisedAlerts(workspaceId)).toEqual([]);
    expect(slack.received).toHaveLength(0);
  });

  it('alerts on an agent’s rejection rate, its QA error rate and its daily write cap nearly spent, each with the page to open', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    await publishPolicy(
      harness.deps,
      workspaceId,
      {
        ...(EXAMPLE_POLICY as { caps: object }),
        caps: { ...(EXAMPLE_POLICY as { caps: object }).caps, writesPerAgentPerDay: 10 },
        qa: { sampling: { enrichment: { rate: 1 } } },
      },
      ADMIN,
    );
    await bootstrapWorkspace(harness.deps, workspaceId, ADMIN);
    await givePeopleRoles(harness, workspaceId, { '501': 'approver' });
    const slack = await hook();
    await addChannel(adminToken, { name: 'slack', kind: 'slack', url: slack.url });
    const rate = { threshold: 0.5, minCount: 2, lookbackMinutes: 60 };
    await addRule(adminToken, { name: 'rejections', kind: 'rejection_rate', params: rate, channels: ['slack'] });
    await addRule(adminToken, { name: 'qa', kind: 'qa_error_rate', params: rate, channels: ['slack'] });
    await addRule(adminToken, { name: 'budget', kind: 'api_budget', params: { threshold: 0.3 }, channels: ['slack'] });
    const agent = agents[0]!;

    const records = seedContacts(harness, ['Engineer', 'Designer', 'Analyst']);
    await submitTitles(harness, agent.token, 'titles-1', Object.fromEntries(records.map((id) => [id, 'CTO'])));
    const open = (await api(harness, 'GET', '/v1/admin/qa/reviews?status=open', { token: adminToken })).body.reviews;
    for (const [i, review] of (open as { id: string }[]).entries()) {
      const verdict = i < 2 ? 'wrong' : 'correct';
      const res = await api(harness, 'POST', `/v1/admin/qa/reviews/${review.id}/verdict`, {
        token: adminToken,
        body: { actingUserId: '501', verdict },
      });
      expect(res.status).toBe(200);
    }
    for (const phone of ['+1 555 0101', '+1 555 0102']) {
      const approvalId = await proposeHeld(harness, {
        token: agent.token,
        adminToken,
        recordId: seedContact(harness, { phone: '+1 555 0100' }),
        properties: { phone },
      });
      expect(
        (await decide(harness, adminToken, approvalId, { kind: 'reject', actingUserId: '501', reason: 'Wrong number' }))
          .status,
      ).toBe(200);
    }

    // State rules are checked once a minute; the first check came when each rule was added.
    now = new Date(now.getTime() + 61_000);
    await runAlertJobs(harness.deps);
    const byRule = Object.fromEntries((await raisedAlerts(workspaceId)).map((alert) => [alert.rule, alert]));
    expect(byRule.rejections).toMatchObject({
      title: 'Agent’s proposals rejected',
      subject: agent.id,
      about: `agent ${agent.name} (${agent.id})`,
      link: `${CONSOLE}/batches/enrich-1`,
    });
    expect(String(byRule.rejections!.text)).toContain('2 of 2 (100%)');
    expect(byRule.qa).toMatchObject({ title: 'Agent’s QA error rate', subject: agent.id });
    expect(String(byRule.qa!.text)).toContain('2 of 3 (67%)');
    expect(String(byRule.qa!.link)).toMatch(new RegExp(`^${CONSOLE}/records/contacts/`));
    expect(byRule.budget).toMatchObject({
      title: 'Daily write budget nearly spent',
      link: `${CONSOLE}/audit?agent=${agent.id}`,
    });
    expect(String(byRule.budget!.text)).toContain('daily cap of 10 writes');
    expect(slack.received).toHaveLength(3);

    // Checked again a minute later: the same subjects are within their window, so nothing more is sent.
    now = new Date(now.getTime() + 61_000);
    await runAlertJobs(harness.deps);
    expect(slack.received).toHaveLength(3);
  });

  it('alerts, once per window and with the inbox’s link, when approved values have not reached the CRM in time: a write the CRM refused and one that went stale', async () => {
    const { workspaceId, adminToken, agents } = await seedWorkspace(harness);
    await bootstrapWorkspace(harness.deps, workspaceId, ADMIN);
    await givePeopleRoles(harness, workspaceId, { '501': 'approver' });
    const slack = await hook();
    await addChannel(adminToken, { name: 'slack', kind: 'slack', url: slack.url });
    const missing = await api(harness, 'POST', '/v1/admin/alert-rules', {
      token: adminToken,
      body: { name: 'unwritten', kind: 'approvals_unwritten', channels: ['slack'] },
    });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('hours');
    await addRule(adminToken, {
      name: 'unwritten',
      kind: 'approvals_unwritten',
      params: { hours: 0.5 },
      channels: ['slack'],
    });
    const propose = (phone: string) =>
      proposeHeld(harness, {
        token: agents[0]!.token,
        adminToken,
        recordId: seedContact(harness, { phone: '+1 555 0100' }),
        properties: { phone },
      });
    const refused = await propose('+1 555 0101');
    const staleId = await propose('+1 555 0102');
    const written = await propose('+1 555 0103');

    expect((await decide(harness, adminToken, written, { kind: 'approve', actingUserId: '501' })).body).toMatchObject({
      status: 'applied',
    });
    const staleRecord = (await api(harness, 'GET', `/v1/admin/approvals/${staleId}`, { token: adminToken })).body
      .recordId as string;
    editAsPerson(harness.hubspot.state, {
      objectType: 'contacts',
      recordId: staleRecord,
      properties: { phone: '+1 555 0777' },
      userId: 9001,
    });
    expect((await decide(harness, adminToken, staleId, { kind: 'approve', actingUserId: '501' })).body).toMatchObject({
      status: 'stale',
    });
    // The CRM refuses every attempt the client makes at this write; it stays approved, waiting for its retry.
    harness.hubspot.faults.failNext(50, { status: 503 }, 'POST /crm/v3/objects/{type}/batch/update');
    expect((await decide(harness, adminToken, refused, { kind: 'approve', actingUserId: '501' })).body).toMatchObject({
      status: 'approved',
    });
    harness.hubspot.faults.reset();

    // Within the half hour nothing is raised: a refused write is retried, and may yet land.
    now = new Date(now.getTime() + 20 * 60_000);
    await runAlertJobs(harness.deps);
    expect(await raisedAlerts(workspaceId)).toEqual([]);

    now = new Date(now.getTime() + 15 * 60_000);
    await runAlertJobs(harness.deps);
    const [alert] = await raisedAlerts(workspaceId);
    expect(alert).toMatchObject({
      rule: 'unwritten',
      kind: 'approvals_unwritten',
      subject: 'unwritten approvals',
      title: 'Approved values not written',
      link: `${CONSOLE}/inbox`,
    });
    expect(String(alert!.text)).toContain('1 still not written');
    expect(String(alert!.text)).toContain('1 not written because the record changed first');
    expect(slack.received).toHaveLength(1);
    expect(JSON.stringify(slack.received[0]!.blocks)).toContain(`${CONSOLE}/inbox`);

    // Checked again within the rule's window (60 minutes): the same subject, so nothing more is sent.
    now = new Date(now.getTime() + 2 * 60_000);
    await runAlertJobs(harness.deps);
    expect(await raisedAlerts(workspaceId)).toHaveLength(1);
    expect(slack.received).toHaveLength(1);
  });
});
