import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, type NodeProcess, serverEnv, startNodeProcess, urlFromLog } from './support/processes.ts';
import { LOOPBACK_ALLOWED } from '../support/outbound.ts';
import {
  buildConsoleIfStale,
  haveChromium,
  launchChromium,
  saveScreenshot,
  seriousAxeViolations,
  signInThroughLink,
} from './support/chromium.ts';
import { migratedDataFolder } from '../support/data-folders.ts';

// Settings and Overview as people use them: the real server in demo mode with its sandbox, the
// real build, headless Chromium. Each story saves a screenshot of its last screen under test/artifacts.
describe.skipIf(!haveChromium)('the console’s Settings and Overview in Chromium', () => {
  const data = migratedDataFolder('ag-e2e-settings-');
  let server: NodeProcess;
  let serverUrl: string;
  let browser: Browser;
  let page: Page;
  let adminToken: string;
  const pageErrors: string[] = [];

  const signIn = async (crmUserId: string, role: string) => {
    await http('PUT', `${serverUrl}/v1/admin/people/${crmUserId}`, { token: adminToken, body: { role } });
    const link = await http('POST', `${serverUrl}/v1/admin/console-links`, { token: adminToken, body: { crmUserId } });
    await signInThroughLink(page, link.body.url);
  };
  const screenshot = (name: string) => saveScreenshot(page, name);

  beforeAll(async () => {
    await buildConsoleIfStale();
    server = startNodeProcess('server/src/main.ts', serverEnv(data.dir, LOOPBACK_ALLOWED));
    // The first start migrates PGlite, seeds the sandbox and sends the demo batch: on a loaded machine, over 20 s.
    serverUrl = await urlFromLog(server, 'listening', 60_000);
    await server.waitForLine((line) => line.startsWith('Try next'), 60_000);
    adminToken = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    browser = await launchChromium();
    page = await browser.newPage();
    page.setDefaultTimeout(15_000); // a step that never happens fails by name, within the test's own 30 s
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // Chromium logs every 4xx answer; the 409 that dual control answers is the story, not an error.
      const heldForSecondAdmin = /status of 409 \(Conflict\)/.test(message.text());
      if (message.type() === 'error' && !heldForSecondAdmin) pageErrors.push(`${page.url()}: ${message.text()}`);
    });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    data.remove();
  });

  it('an admin moves a property from approval to auto, publishes, and sees the next write applied', async () => {
    await signIn('3001', 'revops_admin');
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.waitForURL(/\/settings\/policy$/);
    const cell = page.getByLabel('contacts phone enrichment', { exact: true });
    expect(await cell.inputValue()).toBe('approval');
    await cell.selectOption('auto');
    await page.getByText('1 setting(s) changed from the version in force.').waitFor();
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('status').filter({ hasText: 'Published version 2' }).waitFor();
    expect(await page.getByLabel('contacts phone enrichment', { exact: true }).inputValue()).toBe('auto');

    await page.getByRole('link', { name: 'Versions' }).click();
    await page.waitForURL(/\/settings\/versions/);
    const diff = page.locator('table.diff');
    await diff.waitFor();
    expect((await diff.locator('tbody tr').allTextContents()).map((row) => row.replace(/\s+/g, ' '))).toEqual([
      'objects.contacts.properties.phone.enrichment"approval""auto"',
    ]);

    // The next write, on a record the demo batch already wrote to on its own (no condition holds it).
    const agentToken = fs.readFileSync(path.join(data.dir, 'demo', 'enrichment-agent.token'), 'utf8');
    const changeSetId = /change set ([0-9a-f-]{36})/.exec(server.stdout())![1];
    const demo = await http('GET', `${serverUrl}/v1/changesets/${changeSetId}`, { token: agentToken });
    const { recordId } = (demo.body.results as { recordId: string; decision: string; reasons: string[] }[]).find(
      (result) => result.decision === 'applied' && !result.reasons.includes('value_unchanged'),
    )!;
    const write = await http('POST', `${serverUrl}/v1/changesets`, {
      token: agentToken,
      body: {
        batchId: 'after-publish',
        objectType: 'contacts',
        changes: [
          {
            recordId,
            properties: { phone: '+1 555 0199' },
            evidence: { source: 'clearbit', url: 'https://example.com/p', confidence: 0.95, reason: 'Listed' },
          },
        ],
      },
    });
    expect(write.status).toBe(201);
    expect(write.body.policyVersion).toBe(2);
    expect(write.body.results[0]).toMatchObject({ property: 'phone', decision: 'applied' });

    await page.goto(`${serverUrl}/records/contacts/${recordId}`);
    const applied = page.getByRole('table', { name: `Change set ${write.body.id}` });
    await applied.waitFor();
    expect(await applied.locator('tbody tr').first().textContent()).toMatch(
      /^phone.*\+1 555 0199demo-enricherafter-publish/,
    );
    await screenshot('settings-publish-then-write-applied');
  });

  it('with dual control on, lowering a tier waits for a second admin, who confirms it from the console', async () => {
    await page.goto(`${serverUrl}/settings/policy`);
    await page.getByLabel('Lowering a tier').check();
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('status').filter({ hasText: 'Published version 3' }).waitFor();

    await page.getByLabel('contacts email enrichment', { exact: true }).selectOption('auto');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('status').filter({ hasText: 'a second admin must confirm it' }).waitFor();
    const waiting = page.getByRole('region', { name: 'Waiting for a second admin' });
    await waiting.waitFor();
    expect(await waiting.getByRole('button', { name: 'Confirm' }).count()).toBe(0);

    await signIn('3003', 'owner');
    await page.goto(`${serverUrl}/settings/policy`);
    await page
      .getByRole('region', { name: 'Waiting for a second admin' })
      .getByRole('button', { name: 'Confirm' })
      .click();
    await page.getByRole('status').filter({ hasText: 'Confirmed' }).waitFor();
    await expect.poll(() => page.getByLabel('contacts email enrichment', { exact: true }).inputValue()).toBe('auto');
    expect(await page.getByText(/^Version 4 in force/).count()).toBe(1);
    await screenshot('settings-dual-control-confirmed');
  });

  it('an owner edits approval expiry and the monitoring settings, publishes, and the next held change expires by the new setting', async () => {
    await page.goto(`${serverUrl}/settings/policy`);
    await page.getByLabel('A held change expires after (hours)').fill('24');
    await page.getByLabel('Write a bypass write back to the value before it').check();
    // A threshold typed turns its trigger on, which enables the window beside it.
    await page.getByLabel('Bypass writes threshold').fill('5');
    await page.getByLabel('Bypass writes window minutes').fill('30');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('status').filter({ hasText: 'Published version 5' }).waitFor();

    const policy = await http('GET', `${serverUrl}/v1/admin/policies/active`, { token: adminToken });
    expect(policy.body.policy).toMatchObject({
      approvals: { expiryHours: 24 },
      monitoring: { revertBypassWrites: true, killTriggers: { bypassWrites: { threshold: 5, windowMinutes: 30 } } },
    });
    const agentToken = fs.readFileSync(path.join(data.dir, 'demo', 'enrichment-agent.token'), 'utf8');
    const held = await http('POST', `${serverUrl}/v1/changesets`, {
      token: agentToken,
      body: {
        batchId: 'after-expiry',
        objectType: 'contacts',
        changes: [
          {
            recordId: '1007',
            properties: { hs_lead_status: 'IN_PROGRESS' },
            evidence: { source: 'clearbit', confidence: 0.95, reason: 'Listed' },
          },
        ],
      },
    });
    expect(held.status).toBe(201);
    const approvals = await http('GET', `${serverUrl}/v1/admin/approvals?batch=after-expiry`, { token: adminToken });
    const [approval] = approvals.body.approvals as { createdAt: string; expiresAt: string }[];
    expect(Date.parse(approval!.expiresAt) - Date.parse(approval!.createdAt)).toBe(24 * 3_600_000);

    await page.goto(`${serverUrl}/settings/policy`);
    expect(await page.getByLabel('A held change expires after (hours)').inputValue()).toBe('24');
    expect(await page.getByLabel('Bypass writes threshold').inputValue()).toBe('5');
    await screenshot('settings-expiry-and-monitoring');
  });

  it('an owner adds a content rule and lets enrichment agents create contacts and read emails masked; the creation tier waits for a second admin, who confirms it', async () => {
    await page.goto(`${serverUrl}/settings/policy`);
    await page.getByRole('button', { name: 'Add content rule' }).click();
    const rule = page.getByRole('group', { name: 'Content rule 1' });
    // Checked as typed with the server's own rule schema: a rule without phrases checks nothing.
    await rule.getByRole('alert').filter({ hasText: 'checks nothing: give phrases or patterns' }).waitFor();
    expect(await page.getByRole('button', { name: 'Publish' }).isDisabled()).toBe(true);
    await rule.getByLabel('Name').fill('No promises');
    await rule.getByLabel(/^Phrases/).fill('guaranteed returns\nrisk-free');
    await rule.getByLabel('Raise to').selectOption('deny');
    await rule.getByLabel('send_email').check();
    expect(await rule.getByRole('alert').count()).toBe(0);

    await page.getByLabel('create contacts enrichment', { exact: true }).selectOption('approval');
    await page.getByLabel('A likely duplicate of an existing contact is').selectOption('approval');
    await page.getByLabel('Let agents read another contacts property').fill('email');
    await page.getByRole('button', { name: 'Add read property' }).first().click();
    await page.getByLabel('read contacts email enrichment', { exact: true }).selectOption('masked');
    await page.getByRole('button', { name: 'Publish' }).click();
    // Creating contacts was denied to every role: allowing it lowers a tier, which dual control holds.
    await page.getByRole('status').filter({ hasText: 'a second admin must confirm it' }).waitFor();

    await signIn('3001', 'revops_admin');
    await page.goto(`${serverUrl}/settings/policy`);
    await page
      .getByRole('region', { name: 'Waiting for a second admin' })
      .getByRole('button', { name: 'Confirm' })
      .click();
    await page.getByRole('status').filter({ hasText: 'Confirmed' }).waitFor();
    await page.getByText(/^Version 6 in force/).waitFor();

    const policy = await http('GET', `${serverUrl}/v1/admin/policies/active`, { token: adminToken });
    expect(policy.body.policy.content).toEqual([
      {
        name: 'No promises',
        kind: 'banned',
        phrases: ['guaranteed returns', 'risk-free'],
        raiseTo: 'deny',
        actions: ['send_email'],
      },
    ]);
    expect(policy.body.policy.objects.contacts).toMatchObject({
      create: { enrichment: 'approval' },
      onDuplicate: 'approval',
      read: { email: { enrichment: 'masked' } },
    });
    expect(await page.getByLabel('create contacts enrichment', { exact: true }).inputValue()).toBe('approval');
    expect(await page.getByLabel('read contacts email enrichment', { exact: true }).inputValue()).toBe('masked');
    await page.getByText('No promises: send_email that contains "guaranteed returns" or "risk-free" → deny').waitFor();
    await screenshot('settings-content-and-creation');
  });

  it('the other settings sections and the overview open by their own URL and draw', async () => {
    for (const section of ['agents', 'people', 'kill-switches', 'streaming', 'alerts', 'policy']) {
      await page.goto(`${serverUrl}/settings/${section}`);
      await page.getByRole('link', { name: 'Kill switches' }).waitFor();
    }
    await page.goto(`${serverUrl}/settings/kill-switches`);
    expect(await page.getByRole('row').filter({ hasText: 'The whole workspace' }).textContent()).toContain('released');

    await page.goto(`${serverUrl}/settings/agents`);
    const create = page.getByRole('region', { name: 'Create an agent' });
    await create.getByRole('textbox', { name: 'Name' }).fill('router-2');
    await create.getByRole('combobox', { name: /^Role/ }).selectOption('routing');
    await create.getByRole('button', { name: 'Create' }).click();
    expect(await page.getByRole('region', { name: 'New agent token' }).locator('code').textContent()).toMatch(/^agt_/);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.getByRole('region', { name: 'New agent token' }).count()).toBe(0);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16);
    await page.getByLabel('CRM user id').fill('1001');
    await page.getByLabel('Until').fill(tomorrow);
    await page.getByRole('button', { name: 'Delegate' }).click();
    const delegations = page.getByRole('table', { name: 'Delegations in force' });
    await delegations.waitFor();
    expect(await delegations.locator('tbody').textContent()).toMatch(/^demo-enricher1001/);
    await delegations.getByRole('button', { name: 'End now' }).click();
    await page.getByText('No agent acts for anyone now.').waitFor();
    await page.getByRole('status').filter({ hasText: 'The agent no longer acts for CRM user 1001.' }).waitFor();

    await page.goto(`${serverUrl}/overview?days=7`);
    const decisions = page.getByRole('region', { name: 'Decisions per day, by outcome' });
    await decisions.locator('.recharts-bar-rectangle').first().waitFor();
    expect(await page.getByRole('region', { name: 'Top changed properties (applied writes)' }).textContent()).toContain(
      'contacts.phone',
    );
    await screenshot('overview');
  });

  it('an admin sets how long drafts and personal values are kept, and the API reads the same', async () => {
    await signIn('3001', 'revops_admin');
    await page.goto(`${serverUrl}/settings/retention`);
    const retention = page.getByRole('region', { name: 'Retention' });
    await retention.getByLabel('Settled drafts (days)').fill('90');
    await retention.getByLabel('Personal values in the audit log (days)').fill('365');
    await retention.getByRole('button', { name: 'Save retention' }).click();
    expect(await retention.getByRole('status').textContent()).toContain('Saved');
    const read = await http('GET', `${serverUrl}/v1/admin/retention`, { token: adminToken });
    expect(read.body.periods).toMatchObject({ draftsDays: 90, auditPersonalDataDays: 365, changeRecordsDays: null });
    await page.reload();
    expect(await page.getByLabel('Settled drafts (days)').inputValue()).toBe('90');
    await screenshot('settings-retention');
  });

  it('an admin streams the audit trail to an OTLP collector and alerts a channel on kill switches, from the settings', async () => {
    await signIn('3001', 'revops_admin');
    await page.goto(`${serverUrl}/settings/streaming`);
    const add = page.getByRole('region', { name: 'Add a SIEM destination' });
    await add.getByLabel('Name').fill('Local collector');
    await add.getByRole('combobox', { name: /^Kind/ }).selectOption('otlp');
    // A loopback URL may be plain HTTP; nothing needs to receive (the destination then shows as failing).
    await add.getByLabel('URL').fill('http://127.0.0.1:9/v1/logs');
    await add.getByLabel('Bearer token (optional)').fill('collector-token-never-shown');
    await add.getByRole('combobox', { name: /^Send/ }).selectOption('now');
    await add.getByRole('button', { name: 'Add destination' }).click();
    await add.getByRole('status').filter({ hasText: 'Local collector is added' }).waitFor();
    const row = page
      .getByRole('table', { name: 'SIEM destinations' })
      .getByRole('row')
      .filter({ hasText: 'Local collector' });
    expect(await row.textContent()).toMatch(/^Local collectorotlphttp:\/\/127\.0\.0\.1:9\/v1\/logsseq \d+ of \d+/);
    expect(await add.getByLabel('Bearer token (optional)').inputValue()).toBe('');
    expect(await page.content()).not.toContain('collector-token-never-shown');
    const read = await http('GET', `${serverUrl}/v1/admin/siem-destinations`, { token: adminToken });
    expect(read.body.destinations).toEqual([
      expect.objectContaining({ name: 'Local collector', kind: 'otlp', hasSecret: true }),
    ]);
    expect(await seriousAxeViolations(page, '/settings/streaming')).toEqual([]);
    await screenshot('settings-audit-streaming');

    await page.getByRole('link', { name: 'Alerts' }).click();
    await page.waitForURL(/\/settings\/alerts$/);
    const channel = page.getByRole('region', { name: 'Add an alert channel' });
    await channel.getByLabel('Name').fill('ops-slack');
    await channel.getByLabel('Webhook URL (kept secret)').fill('http://127.0.0.1:9/slack-hook-secret');
    await channel.getByRole('button', { name: 'Add channel' }).click();
    await channel.getByRole('status').filter({ hasText: 'ops-slack is added' }).waitFor();
    const rule = page.getByRole('region', { name: 'Add an alert rule' });
    await rule.getByLabel('Name').fill('Kill switches');
    await rule.getByLabel('ops-slack').check();
    await rule.getByRole('button', { name: 'Add rule' }).click();
    await rule.getByRole('status').filter({ hasText: 'Kill switches is added' }).waitFor();
    expect(await page.getByRole('table', { name: 'Rules' }).locator('tbody').textContent()).toContain(
      'Kill switcheskill_switch_engagedops-slack60 min',
    );
    // A channel a rule uses stays: the server's 409 names the rule.
    const channels = page.getByRole('region', { name: 'Alert channels' });
    await channels.getByRole('button', { name: 'Remove ops-slack' }).click();
    await channels.getByRole('button', { name: 'Confirm remove' }).click();
    await channels.getByRole('alert').filter({ hasText: 'is used by the rules "Kill switches"' }).waitFor();
    expect(await page.content()).not.toContain('slack-hook-secret');
    // A name another admin gave with a right-to-left override reads as typed, the override a marker.
    const spoofed = await http('POST', `${serverUrl}/v1/admin/alert-channels`, {
      token: adminToken,
      body: { name: 'ops-\u202Ekcals', kind: 'slack', url: 'http://127.0.0.1:9/hook' },
    });
    expect(spoofed.status).toBe(201);
    await page.reload();
    const listed = await page.getByRole('region', { name: 'Alert channels' }).locator('tbody').textContent();
    expect(listed).toContain('ops-⟨U+202E⟩kcals');
    expect(listed).not.toContain('\u202E');
    expect(await seriousAxeViolations(page, '/settings/alerts')).toEqual([]);
    await screenshot('settings-alerts');
  });

  it('an admin stops the records matching a condition from the kill switches section, and releases them again', async () => {
    await signIn('3003', 'revops_admin');
    await page.goto(`${serverUrl}/settings/kill-switches`);
    const form = page.getByRole('group', { name: 'Stop records matching a condition' });
    await form.getByLabel('Object type').selectOption('contacts');
    await form.getByLabel('Property').fill('lifecyclestage');
    await form.getByLabel('Is', { exact: true }).selectOption('eq');
    await form.getByLabel('Value').fill('customer');
    await form.getByLabel('Reason for stopping these records').fill('Customers are off limits');
    await form.getByRole('button', { name: 'Stop these records' }).click();
    const label = 'Records where contacts.lifecyclestage eq customer';
    const row = page.getByRole('row').filter({ hasText: label });
    await expect.poll(() => row.textContent()).toContain('ENGAGED');
    const read = await http('GET', `${serverUrl}/v1/admin/kill-switches`, { token: adminToken });
    expect(read.body.killSwitches).toContainEqual(
      expect.objectContaining({
        scope: 'segment',
        engaged: true,
        condition: { objectType: 'contacts', property: 'lifecyclestage', op: 'eq', value: 'customer' },
      }),
    );
    await row.getByLabel(`Reason for ${label}`).fill('Back to normal');
    await row.getByRole('button', { name: 'Release' }).click();
    await expect.poll(() => row.textContent()).toContain('released');
    await screenshot('settings-kill-switch-condition');
  });

  it('an admin’s unpublished edits outlive a version confirmed meanwhile on the same page, and are not published over it', async () => {
    // 3001 lowers a tier; dual control holds it for a second admin.
    await signIn('3001', 'revops_admin');
    await page.goto(`${serverUrl}/settings/policy`);
    await page.getByLabel('contacts mobilephone enrichment', { exact: true }).selectOption('auto');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('status').filter({ hasText: 'a second admin must confirm it' }).waitFor();

    // 3003 starts an edit of their own, then confirms 3001's request from the same page.
    await signIn('3003', 'revops_admin');
    await page.goto(`${serverUrl}/settings/policy`);
    await page.getByLabel('contacts city enrichment', { exact: true }).selectOption('approval');
    await page
      .getByRole('region', { name: 'Waiting for a second admin' })
      .getByRole('button', { name: 'Confirm' })
      .click();
    await page.getByRole('status').filter({ hasText: 'Confirmed' }).waitFor();
    await page.getByText(/^Version 7 in force/).waitFor();
    await page.getByText('Version 7 was published since these edits began from version 6').waitFor();
    expect(await page.getByLabel('contacts city enrichment', { exact: true }).inputValue()).toBe('approval');

    // Published as they stand, the edits would put mobilephone back to approval unseen: refused.
    await page.getByRole('button', { name: 'Publish' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'Version 7 was published after version 6, which you edited' })
      .waitFor();
    const policy = await http('GET', `${serverUrl}/v1/admin/policies/active`, { token: adminToken });
    expect(policy.body.version).toBe(7);
    expect(policy.body.policy.objects.contacts.properties.mobilephone).toEqual({ enrichment: 'auto' });

    await page.getByRole('button', { name: 'Discard changes' }).click();
    expect(await page.getByLabel('contacts city enrichment', { exact: true }).inputValue()).toBe('auto');
    expect(await page.getByLabel('contacts mobilephone enrichment', { exact: true }).inputValue()).toBe('auto');
    expect(await page.getByText(/was published since these edits began/).count()).toBe(0);
    await screenshot('settings-edits-kept-over-a-confirmed-version');
  });

  it('an admin who governs another property, one the portal lacks (a typo), publishes only that and is told its rule matches nothing', async () => {
    const before = await http('GET', `${serverUrl}/v1/admin/policies/active`, { token: adminToken });
    await signIn('3001', 'revops_admin');
    await page.goto(`${serverUrl}/settings/policy`);
    const contacts = page.getByRole('region', { name: 'Policy matrix: contacts' });
    await contacts.getByLabel('Govern another contacts property').fill('jobtitel');
    await contacts.getByRole('button', { name: 'Add property' }).click();
    // Denied by name (choosing the default deny changes nothing): no tier lowered, no second admin needed.
    const tier = contacts.getByLabel('contacts jobtitel enrichment', { exact: true });
    await tier.selectOption('approval');
    await tier.selectOption('deny');
    // The one setting changed: adding a property keeps the object's creation tiers and governed reads.
    await page.getByText('1 setting(s) changed from the version in force.').waitFor();
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('status').filter({ hasText: 'Published version 8' }).waitFor();
    const warnings = page.getByRole('alert', { name: 'Publish warnings' });
    await warnings.getByText('contacts has no property jobtitel in the CRM').waitFor();
    expect(await warnings.getByRole('listitem').count()).toBe(1);
    const policy = await http('GET', `${serverUrl}/v1/admin/policies/active`, { token: adminToken });
    expect(policy.body.version).toBe(8);
    const { properties, ...rest } = policy.body.policy.objects.contacts;
    expect(properties.jobtitel).toEqual({ enrichment: 'deny' });
    const { properties: _before, ...restBefore } = before.body.policy.objects.contacts;
    expect(rest).toEqual(restBefore);
    expect(Object.keys(rest)).toEqual(expect.arrayContaining(['create', 'onDuplicate', 'read']));
    await screenshot('settings-publish-warns-of-unknown-property');
  });

  it('an approver reads the settings but is offered nothing to change', async () => {
    await signIn('3002', 'approver');
    await page.goto(`${serverUrl}/settings/policy`);
    await page.getByRole('region', { name: 'Policy matrix: contacts' }).waitFor();
    expect(await page.getByRole('button', { name: 'Publish' }).count()).toBe(0);
    // The content rules and creation settings are read, not offered for change.
    await page.getByText('No promises: send_email that contains').waitFor();
    expect(await page.getByRole('button', { name: /Add (content rule|read property)/ }).count()).toBe(0);
    expect(await page.locator('select').count()).toBe(0);
    await page.goto(`${serverUrl}/settings/agents`);
    await page.getByRole('region', { name: 'Agents' }).waitFor();
    expect(
      await page
        .getByRole('button')
        .filter({ hasText: /Pause|Revoke|Create/ })
        .count(),
    ).toBe(0);
    await page.goto(`${serverUrl}/settings/kill-switches`);
    await page.getByRole('region', { name: 'Kill switches' }).waitFor();
    expect(await page.getByRole('button', { name: 'Engage' }).count()).toBe(0);
    await page.goto(`${serverUrl}/settings/retention`);
    await page.getByLabel('Settled drafts (days)').waitFor();
    expect(await page.getByLabel('Settled drafts (days)').isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Save retention' }).count()).toBe(0);
    // Audit streaming and alerts are read (no secret in them), not offered for change.
    await page.goto(`${serverUrl}/settings/streaming`);
    await page.getByRole('table', { name: 'SIEM destinations' }).getByText('Local collector').waitFor();
    await page.goto(`${serverUrl}/settings/alerts`);
    await page.getByRole('table', { name: 'Rules' }).getByText('Kill switches').waitFor();
    expect(
      await page
        .getByRole('button')
        .filter({ hasText: /Add|Remove/ })
        .count(),
    ).toBe(0);
  });

  it('no error on Settings or Overview: no script error, no Content-Security-Policy refusal', () => {
    expect(pageErrors).toEqual([]);
  });
});
