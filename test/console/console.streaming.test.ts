import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertChannelView, AlertDeliveryView, AlertRuleView } from '../../shared/alert-api.ts';
import type { SiemDestinationView } from '../../shared/siem-api.ts';
import { evaluateDueAlertRule } from '../../server/src/services/alerts/index.ts';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { auditEvents, siemDestinations } from '../../server/src/store/schema.ts';
import { consoleCall, signInPeople } from '../support/console.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

// Audit streaming and alerts from the console's Settings (issue 22): the admin API's services,
// the session's person as actor, roles checked on every call, secrets in and never out.

const OTLP_TOKEN = 'otlp-bearer-token-never-shown';
const SLACK_URL = 'https://hooks.slack.example/services/T000/B000/slack-url-is-a-secret';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let cookies: Record<string, string>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  const roles = { '1': 'owner', '2': 'revops_admin', '501': 'approver', '1001': 'rep', '700': 'auditor' } as const;
  cookies = await signInPeople(harness, ws.workspaceId, roles);
});
afterEach(() => harness.close());

const as = (crmUserId: string, method: string, path: string, body?: unknown) =>
  consoleCall(harness, cookies[crmUserId]!, method, path, body);
const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string; message: string; details?: Record<string, unknown> } }).error;
const eventsOf = (type: string) =>
  harness.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, type)));
const byPerson = (crmUserId: string, role: string) =>
  expect.objectContaining({
    actor: expect.objectContaining({ type: 'person', crmUserId, role, via: 'console' }),
  });

const OTLP = {
  name: 'Collector',
  kind: 'otlp',
  url: 'http://127.0.0.1:4318/v1/logs',
  secret: OTLP_TOKEN,
  downAfterSeconds: 600,
  startFrom: 'now',
};

describe('console audit streaming', () => {
  it('When an owner adds a destination, then everyone who reads settings sees its status and never its secret, the admin API lists it, and the add and the removal are audited as the owner', async () => {
    const added = await as('1', 'POST', '/console/api/siem-destinations', OTLP);
    expect(added.status).toBe(201);
    const addedText = await added.text();
    expect(addedText).not.toContain(OTLP_TOKEN);
    const destination = JSON.parse(addedText) as SiemDestinationView;
    expect(destination).toMatchObject({
      name: 'Collector',
      kind: 'otlp',
      url: OTLP.url,
      hasSecret: true,
      downAfterSeconds: 600,
      lastError: null,
    });
    // startFrom now: the cursor starts at the chain head as it was, so nothing before is sent.
    expect(destination.cursorSeq).toBe(destination.headSeq - 1);
    expect(destination.status).toBe('behind');

    for (const reader of ['2', '501', '700']) {
      const listed = await as(reader, 'GET', '/console/api/siem-destinations');
      expect(listed.status, reader).toBe(200);
      const text = await listed.text();
      expect(text).not.toContain(OTLP_TOKEN);
      const { destinations } = JSON.parse(text) as { destinations: SiemDestinationView[] };
      expect(destinations.map((d) => [d.id, d.status, d.cursorSeq, d.headSeq])).toEqual([
        [destination.id, 'behind', destination.cursorSeq, destination.headSeq],
      ]);
    }
    const admin = await api(harness, 'GET', '/v1/admin/siem-destinations', { token: ws.adminToken });
    expect(admin.body.destinations.map((d: SiemDestinationView) => d.id)).toEqual([destination.id]);
    expect(await eventsOf('siem_destination.added')).toEqual([byPerson('1', 'owner')]);

    const removed = await as('2', 'DELETE', `/console/api/siem-destinations/${destination.id}`);
    expect(removed.status).toBe(204);
    expect(await eventsOf('siem_destination.removed')).toEqual([byPerson('2', 'revops_admin')]);
    const after = (await (await as('1', 'GET', '/console/api/siem-destinations')).json()) as {
      destinations: unknown[];
    };
    expect(after.destinations).toEqual([]);
    expect((await as('1', 'DELETE', `/console/api/siem-destinations/${destination.id}`)).status).toBe(404);
    expect((await as('1', 'DELETE', '/console/api/siem-destinations/not-a-uuid')).status).toBe(404);
  });

  it('When a destination was saved with a user and password in its URL, then every settings reader is shown them as ***@, never the password', async () => {
    await harness.database.db.insert(siemDestinations).values({
      id: randomUUID(),
      workspaceId: ws.workspaceId,
      name: 'Old collector',
      kind: 'otlp',
      url: 'https://collector:s3cret@otel.example.com/v1/logs',
      downAfterSeconds: 900,
      cursorSeq: 0,
      nextAttemptAt: new Date(),
    });
    for (const reader of ['1', '2', '501', '700']) {
      const text = await (await as(reader, 'GET', '/console/api/siem-destinations')).text();
      expect(text, reader).not.toContain('s3cret');
      const { destinations } = JSON.parse(text) as { destinations: SiemDestinationView[] };
      expect(destinations.map((d) => d.url)).toEqual(['https://***@otel.example.com/v1/logs']);
    }
  });

  it('When a rep reads, an approver or auditor writes, or a write comes from another site, then each is refused 403 and nothing is added', async () => {
    const rep = await as('1001', 'GET', '/console/api/siem-destinations');
    expect(rep.status).toBe(403);
    expect((await errorOf(rep)).code).toBe('FORBIDDEN');
    for (const who of ['501', '700']) {
      const refused = await as(who, 'POST', '/console/api/siem-destinations', OTLP);
      expect(refused.status, who).toBe(403);
      expect((await errorOf(refused)).code).toBe('FORBIDDEN');
    }
    const crossSite = await fetch(`${harness.url}/console/api/siem-destinations`, {
      method: 'POST',
      headers: { cookie: cookies['1']!, 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify(OTLP),
    });
    expect(crossSite.status).toBe(403);
    expect((await errorOf(crossSite)).details?.reason).toBe('cross_site_request');

    const kept = await api(harness, 'GET', '/v1/admin/siem-destinations', { token: ws.adminToken });
    expect(kept.body.destinations).toEqual([]);
    expect(await eventsOf('siem_destination.added')).toEqual([]);
  });

  it('When a destination is invalid, then the answer is 400 VALIDATION_FAILED naming the field', async () => {
    const cases = [
      [{ ...OTLP, kind: 'webhook', secret: 'short' }, /secret.*32 characters/],
      [{ ...OTLP, kind: 'splunk_hec', secret: undefined }, /HEC token/],
      [{ ...OTLP, url: 'http://collector.example/v1/logs' }, /https:\/\//],
      [{ ...OTLP, downAfterSeconds: 1 }, /downAfterSeconds/],
    ] as const;
    for (const [body, message] of cases) {
      const response = await as('1', 'POST', '/console/api/siem-destinations', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(error)).toMatch(message);
    }
  });
});

describe('console alerts', () => {
  it('When an owner adds a channel and a rule, then readers see them without the webhook URL, the channel cannot go while the rule uses it, an alert raised is listed, and each change is audited as the person', async () => {
    const channelAnswer = await as('1', 'POST', '/console/api/alert-channels', {
      name: 'ops-slack',
      kind: 'slack',
      url: SLACK_URL,
    });
    expect(channelAnswer.status).toBe(201);
    const channelText = await channelAnswer.text();
    expect(channelText).not.toContain('slack-url-is-a-secret');
    const channel = JSON.parse(channelText) as AlertChannelView;
    expect(channel).toMatchObject({ name: 'ops-slack', kind: 'slack', settings: {} });

    const ruleAnswer = await as('1', 'POST', '/console/api/alert-rules', {
      name: 'Kill switches',
      kind: 'kill_switch_engaged',
      channels: ['ops-slack'],
    });
    expect(ruleAnswer.status).toBe(201);
    const rule = (await ruleAnswer.json()) as AlertRuleView;
    expect(rule).toMatchObject({ name: 'Kill switches', kind: 'kill_switch_engaged', channelIds: [channel.id] });

    for (const reader of ['501', '700']) {
      const channels = await as(reader, 'GET', '/console/api/alert-channels');
      expect(channels.status, reader).toBe(200);
      const text = await channels.text();
      expect(text).not.toContain('slack-url-is-a-secret');
      expect((JSON.parse(text) as { channels: AlertChannelView[] }).channels.map((c) => c.id)).toEqual([channel.id]);
      const rules = (await (await as(reader, 'GET', '/console/api/alert-rules')).json()) as { rules: AlertRuleView[] };
      expect(rules.rules.map((r) => r.id)).toEqual([rule.id]);
    }

    const inUse = await as('2', 'DELETE', `/console/api/alert-channels/${channel.id}`);
    expect(inUse.status).toBe(409);
    const conflict = await errorOf(inUse);
    expect(conflict.code).toBe('CONFLICT');
    expect(conflict.message).toBe('Alert channel "ops-slack" is used by the rules "Kill switches": remove them first.');
    expect(conflict.details).toEqual({ rules: ['Kill switches'] });

    // The rule watches the audit chain from now on: a kill switch engaged in the console raises one alert.
    const engaged = await as('2', 'PUT', '/console/api/kill-switches', {
      scope: 'workspace',
      engaged: true,
      reason: 'Drill',
    });
    expect(engaged.status).toBe(200);
    const evaluation = {
      holder: 'test',
      leaseMs: 30_000,
      consoleUrl: harness.url,
      checkEveryMs: 60_000,
      eventsPerRound: 5,
    };
    while ((await evaluateDueAlertRule(harness.deps, evaluation)) !== undefined);
    const alerts = await as('700', 'GET', '/console/api/alerts?limit=10');
    expect(alerts.status).toBe(200);
    const { alerts: recent } = (await alerts.json()) as { alerts: AlertDeliveryView[] };
    expect(recent).toEqual([
      expect.objectContaining({ channelId: channel.id, rule: 'Kill switches', status: 'pending', attempts: 0 }),
    ]);
    expect((await as('700', 'GET', '/console/api/alerts?limit=0')).status).toBe(400);

    expect((await as('1', 'DELETE', `/console/api/alert-rules/${rule.id}`)).status).toBe(204);
    expect((await as('1', 'DELETE', `/console/api/alert-channels/${channel.id}`)).status).toBe(204);
    expect((await as('1', 'DELETE', `/console/api/alert-rules/${rule.id}`)).status).toBe(404);
    for (const type of ['alert_channel.added', 'alert_rule.added', 'alert_rule.removed', 'alert_channel.removed'])
      expect(await eventsOf(type), type).toEqual([byPerson('1', 'owner')]);
  });

  it('When a rep reads or an approver adds or removes, then each is refused 403; bad channels and rules answer 400 with the code', async () => {
    for (const path of ['/console/api/alert-channels', '/console/api/alert-rules', '/console/api/alerts'])
      expect((await as('1001', 'GET', path)).status, path).toBe(403);
    const email = {
      name: 'ops-mail',
      kind: 'email',
      smtp: { host: 'smtp.example.com', user: 'alerts', password: 'smtp-password-never-shown' },
      from: 'alerts@example.com',
      to: ['ops@example.com'],
    };
    const refused = await as('501', 'POST', '/console/api/alert-channels', email);
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).code).toBe('FORBIDDEN');

    const added = await as('2', 'POST', '/console/api/alert-channels', email);
    expect(added.status).toBe(201);
    const channel = (await added.json()) as AlertChannelView;
    expect(channel.settings).toEqual({
      smtpHost: 'smtp.example.com',
      smtpPort: 587,
      smtpSecure: false,
      smtpUser: 'alerts',
      from: 'alerts@example.com',
      to: ['ops@example.com'],
    });
    expect(JSON.stringify(await (await as('501', 'GET', '/console/api/alert-channels')).json())).not.toContain(
      'smtp-password-never-shown',
    );
    expect((await as('501', 'DELETE', `/console/api/alert-channels/${channel.id}`)).status).toBe(403);
    expect(
      (
        await as('700', 'POST', '/console/api/alert-rules', {
          name: 'Bypass',
          kind: 'bypass_writes',
          channels: ['ops-mail'],
        })
      ).status,
    ).toBe(403);

    const invalid = [
      ['/console/api/alert-channels', { name: 'hook', kind: 'webhook', url: SLACK_URL, secret: 'short' }],
      ['/console/api/alert-channels', { name: 'pager', kind: 'pager', url: SLACK_URL }],
      ['/console/api/alert-rules', { name: 'Rejections', kind: 'rejection_rate', channels: ['ops-mail'] }],
    ] as const;
    for (const [path, body] of invalid) {
      const response = await as('2', 'POST', path, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await errorOf(response)).code).toBe('VALIDATION_FAILED');
    }
    const unknownChannel = await as('2', 'POST', '/console/api/alert-rules', {
      name: 'Bypass',
      kind: 'bypass_writes',
      channels: ['nowhere'],
    });
    expect(unknownChannel.status).toBe(404);
    expect(await (await as('1', 'GET', '/console/api/alert-rules')).json()).toEqual({ rules: [] });
    expect(await eventsOf('alert_channel.added')).toEqual([byPerson('2', 'revops_admin')]);
  });
});
