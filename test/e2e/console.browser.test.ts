import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, type NodeProcess, serverEnv, startNodeProcess, urlFromLog } from './support/processes.ts';
import { SEED_CONTACTS } from '../../server/src/sandbox/seed.ts';
import {
  buildConsoleIfStale,
  haveChromium,
  launchChromium,
  saveScreenshot,
  seriousAxeViolations,
  signInThroughLink,
} from './support/chromium.ts';
import { migratedDataFolder } from '../support/data-folders.ts';

const run = promisify(execFile);
/** How long a step waits for the server: a decision's write, a batch decision or a verify takes seconds on a loaded machine. */
const SERVER_WAIT = { timeout: 15_000 };

// The console as a person uses it: the real server in demo mode with its sandbox, the real build,
// driven in headless Chromium. Each story saves a screenshot of its last screen under test/artifacts.
describe.skipIf(!haveChromium)('the web console in Chromium', () => {
  const data = migratedDataFolder('ag-e2e-console-');
  let server: NodeProcess;
  let serverUrl: string;
  let sandboxUrl: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await buildConsoleIfStale();
    server = startNodeProcess('server/src/main.ts', serverEnv(data.dir));
    // The demo's start (PGlite, the sandbox, the workspace) takes longer than 20 s on a loaded machine.
    serverUrl = await urlFromLog(server, 'listening', 90_000);
    sandboxUrl = await urlFromLog(server, 'sandbox listening');
    await server.waitForLine((line) => line.startsWith('Try next'));
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    const link = /web console:\s+(\S+)/.exec(server.stdout())?.[1];
    expect(link).toMatch(/\/sign-in\?token=/);
    await signInThroughLink(page, link!);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    data.remove();
  });

  const screenshot = (name: string) => saveScreenshot(page, name);

  it('a person approves an edited value from the inbox, and the sandbox record holds the edited value', async () => {
    const cards = page.locator('article.card');
    await cards.first().waitFor();
    const before = await cards.count();
    // A free-text property: an enumeration (country) would refuse the edit, rightly.
    const card = cards.filter({ has: page.getByRole('cell', { name: 'company', exact: true }) }).first();
    const [, objectType, recordId] = /Proposal on (\w+) (\d+)/.exec((await card.getAttribute('aria-label')) ?? '')!;
    const property = (await card.locator('tbody tr td').first().textContent())!;
    await card.getByRole('button', { name: 'Edit then approve' }).click();
    await card.getByLabel(`New value for ${property}`).fill('Edited in the console');
    await card.getByRole('button', { name: 'Approve edited values' }).click();
    await expect.poll(() => cards.count(), SERVER_WAIT).toBe(before - 1);

    // The row leaves on the decision's answer; the CRM write follows behind it.
    await expect
      .poll(
        async () => (await http('GET', `${sandboxUrl}/_sandbox/records/${objectType}/${recordId}`)).body.values,
        SERVER_WAIT,
      )
      .toMatchObject({ [property]: 'Edited in the console' });
    await screenshot('inbox-approved-edited-value');
  });

  it('agent-supplied text in the inbox is shown as text and never runs', async () => {
    const payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    await submitContacts('xss-batch', [
      {
        recordId: '1002',
        properties: { phone: '+1 555 0123' },
        evidence: { source: payload, confidence: 0.95, reason: payload },
      },
    ]);
    await page.goto(`${serverUrl}/inbox?batch=xss-batch`);
    const card = page.locator('article.card').first();
    await card.waitFor();
    await expect.poll(() => card.locator('.evidence').textContent()).toContain(payload);
    expect(await card.locator('.evidence img, .evidence script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    await screenshot('inbox-agent-text-as-text');
  });

  it('bidirectional controls in agent text show as visible markers, isolated from the words around them', async () => {
    // Without markers Chromium draws this value as "+1 555 0199" (it is "9910 555 1+" under an
    // override), and the reason's isolate would swallow the words after it. A record no other story holds.
    await submitContacts('bidi\u202E-batch', [
      {
        recordId: '1277',
        properties: { phone: '\u202E9910 555 1+' },
        evidence: { source: 'crm\u202Edata', confidence: 0.95, reason: 'Checked\u2067 by phone' },
      },
    ]);
    await page.goto(`${serverUrl}/inbox?batch=${encodeURIComponent('bidi\u202E-batch')}`);
    const card = page.locator('article.card').first();
    await card.waitFor();
    const proposed = card.locator('tbody tr td').nth(2);
    await expect.poll(() => proposed.textContent()).toBe('⟨U+202E⟩9910 555 1+');
    expect(await proposed.locator('bdi').count()).toBe(1);
    const evidence = await card.locator('.evidence').textContent();
    expect(evidence).toContain('Checked⟨U+2067⟩ by phone');
    expect(evidence).toContain('crm⟨U+202E⟩data');
    expect(await card.locator('header').textContent()).toContain('bidi⟨U+202E⟩-batch');
    expect(await card.textContent()).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
    await screenshot('inbox-bidi-controls-visible');
  });

  it('bidirectional controls in values an agent wrote and a person typed show as markers in the audit and a rollback’s conflicts', async () => {
    // Applied at once (jobtitle is auto for enrichment); a record no other story holds.
    const submitted = await submitContacts('bidi-audit-batch', [
      {
        recordId: '1283',
        properties: { jobtitle: '\u202EOTC' },
        evidence: { source: 'clearbit', confidence: 0.95, reason: 'Company site lists it' },
      },
    ]);
    expect(submitted.body.results[0].decision).toBe('applied');
    const bidiControls = /[\u202A-\u202E\u2066-\u2069]/;

    await page.goto(`${serverUrl}/audit?batch=bidi-audit-batch`);
    await page.getByRole('row').filter({ hasText: 'change.applied' }).first().getByRole('link').click();
    const result = page.getByRole('table', { name: 'CRM result' });
    await result.waitFor(SERVER_WAIT);
    expect(await result.textContent()).toContain('⟨U+202E⟩OTC');
    expect(await result.textContent()).not.toMatch(bidiControls);

    // A person then types a value with an override in the CRM: the rollback leaves it as a conflict.
    await run(process.execPath, [
      path.resolve('server/src/cli/main.ts'),
      'sandbox',
      'edit',
      '--object',
      'contacts',
      '--id',
      '1283',
      '--property',
      'jobtitle',
      '--value',
      '\u202EOEC',
      '--sandbox-url',
      sandboxUrl,
    ]);
    await page.goto(`${serverUrl}/batches/bidi-audit-batch`);
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByRole('button', { name: 'Roll back…' }).click();
    await page.getByRole('button', { name: 'Confirm rollback' }).click();
    const conflicts = page.getByRole('table', { name: 'Conflicts' });
    await conflicts.waitFor({ timeout: 20_000 });
    const row = await conflicts.locator('tr.conflict').first().textContent();
    expect(row).toContain('(to "⟨U+202E⟩OEC")');
    expect(row).not.toMatch(bidiControls);
    await screenshot('rollback-conflict-bidi-controls-visible');
  });

  it('rolling back a batch after a person edited one of its records reports that record as a conflict', async () => {
    const agentToken = fs.readFileSync(path.join(data.dir, 'demo', 'enrichment-agent.token'), 'utf8');
    const changeSetId = /change set ([0-9a-f-]{36})/.exec(server.stdout())![1];
    const changeSet = await http('GET', `${serverUrl}/v1/changesets/${changeSetId}`, { token: agentToken });
    const written = (
      changeSet.body.results as { recordId: string; property: string; decision: string; reasons: string[] }[]
    ).find((result) => result.decision === 'applied' && !result.reasons.includes('value_unchanged'))!;
    await run(process.execPath, [
      path.resolve('server/src/cli/main.ts'),
      'sandbox',
      'edit',
      '--object',
      'contacts',
      '--id',
      written.recordId,
      '--property',
      written.property,
      '--value',
      'Set by a person',
      '--sandbox-url',
      sandboxUrl,
    ]);

    await page.goto(`${serverUrl}/batches/${changeSet.body.batchId}`);
    await page.getByRole('button', { name: 'Dry run' }).click();
    const plan = page.getByText(/to revert/);
    await plan.waitFor();
    expect(await plan.textContent()).toMatch(/to revert, [1-9]\d* conflict/);
    await page.getByRole('button', { name: 'Roll back…' }).click();
    await page.getByRole('button', { name: 'Confirm rollback' }).click();
    await page.getByRole('progressbar', { name: 'Rollback progress' }).waitFor();
    const conflicts = page.getByRole('table', { name: 'Conflicts' });
    await conflicts.waitFor({ timeout: 20_000 });
    const rows = await conflicts.locator('tr.conflict').allTextContents();
    expect(rows.filter((row) => row.startsWith(`${written.recordId}${written.property}Set by a person`))).toEqual([
      expect.stringContaining('person'),
    ]);
    expect(await page.getByRole('status').textContent()).toContain('completed');
    const record = await http('GET', `${sandboxUrl}/_sandbox/records/contacts/${written.recordId}`);
    expect(record.body.values[written.property]).toBe('Set by a person');
    await screenshot('batch-rollback-conflict');
  });

  /** A change set to contacts, submitted through the public API as the demo's enrichment agent; it must be taken (201). */
  const submitContacts = async (batchId: string, changes: object[]) => {
    const agentToken = fs.readFileSync(path.join(data.dir, 'demo', 'enrichment-agent.token'), 'utf8');
    const submitted = await http('POST', `${serverUrl}/v1/changesets`, {
      token: agentToken,
      body: { batchId, objectType: 'contacts', changes },
    });
    expect(submitted.status).toBe(201);
    return submitted;
  };
  /** Holds a phone number on each record through the public API, in a batch of its own; the inbox then shows it. */
  const holdPhones = async (batchId: string, recordIds: string[]) => {
    await submitContacts(
      batchId,
      recordIds.map((recordId, i) => ({
        recordId,
        properties: { phone: `+1 555 01${String(i).padStart(2, '0')}` },
        evidence: { source: 'clearbit', confidence: 0.95, reason: 'Company site lists it' },
      })),
    );
  };
  // The tests' TypeScript has no DOM types: the page's document as these checks read it (inside page.evaluate).
  type PageDocument = {
    activeElement: {
      getAttribute(name: string): string | null;
      closest(selector: string): PageDocument['activeElement'];
    } | null;
    querySelector(selector: string): { textContent: string | null } | null;
  };
  const focusedCard = () =>
    page.evaluate(
      () =>
        (globalThis as unknown as { document: PageDocument }).document.activeElement?.getAttribute('aria-label') ??
        null,
    );

  it('the keyboard moves through the inbox and picks items, and a batch decision shows its manifest before confirming', async () => {
    await holdPhones('keys-batch', ['1003', '1004', '1005']);
    await page.goto(`${serverUrl}/inbox?batch=keys-batch`);
    const cards = page.locator('article.card');
    await expect.poll(() => cards.count()).toBe(3);
    const labels = await Promise.all((await cards.all()).map((card) => card.getAttribute('aria-label')));
    // Tab from the batch bar reaches the feed's first card; then j / k and the arrows move, x selects.
    await page.getByRole('button', { name: 'Select all decidable on this page' }).focus();
    await page.keyboard.press('Tab');
    expect(await focusedCard()).toBe(labels[0]);
    await page.keyboard.press('j');
    expect(await focusedCard()).toBe(labels[1]);
    await page.keyboard.press('ArrowDown');
    expect(await focusedCard()).toBe(labels[2]);
    await page.keyboard.press('k');
    expect(await focusedCard()).toBe(labels[1]);
    await page.keyboard.press('x');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('x');
    await page.getByText('2 selected').waitFor();
    // Tab from a card reaches its own controls.
    await page.keyboard.press('Tab');
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as { document: PageDocument }).document.activeElement
          ?.closest('article')
          ?.getAttribute('aria-label'),
      ),
    ).toBe(labels[0]);

    await page.getByRole('button', { name: 'Approve selected…' }).click();
    const manifest = page.getByRole('table', { name: 'Manifest' });
    await manifest.waitFor();
    const rows = await manifest.locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    for (const label of labels.slice(0, 2)) {
      const recordId = /(\d+)$/.exec(label!)![1]!;
      expect(rows.some((row) => row.startsWith(`contacts ${recordId}phone`))).toBe(true);
    }
    await page.getByRole('button', { name: 'Confirm approval' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent(), SERVER_WAIT)
      .toContain('2 decided, 0 refused');
    await expect.poll(() => cards.count(), SERVER_WAIT).toBe(1);
    await screenshot('inbox-keyboard-batch-decision');
  });

  it('the inbox updates without reload when an agent holds something new', async () => {
    await page.goto(`${serverUrl}/inbox?batch=live-batch`);
    await page.getByText('Nothing waits for a decision.').waitFor();
    await holdPhones('live-batch', ['1006']);
    await page.locator('article.card').first().waitFor({ timeout: 10_000 });
    await screenshot('inbox-live-update');
  });

  it('every screen passes axe-core with no serious or critical violation', async () => {
    const screens = [
      '/inbox',
      '/records/contacts/1003',
      '/batches',
      '/batches/keys-batch',
      '/audit',
      '/audit/1',
      '/settings/streaming',
      '/settings/alerts',
    ];
    const found: string[] = [];
    // A sign-in link's page too; opening it signs nobody in, so this browser's session goes on.
    const adminToken = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    const link = await http('POST', `${serverUrl}/v1/admin/console-links`, { token: adminToken, body: {} });
    await page.goto(link.body.url);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    found.push(...(await seriousAxeViolations(page, '/sign-in')));
    for (const screen of screens) {
      await page.goto(`${serverUrl}${screen}`);
      await page.locator('main h1').first().waitFor();
      await page.waitForFunction(
        () =>
          !(globalThis as unknown as { document: PageDocument }).document
            .querySelector('main .notice')
            ?.textContent?.startsWith('Loading'),
      );
      found.push(...(await seriousAxeViolations(page, screen)));
    }
    expect(found).toEqual([]);
    await screenshot('axe-last-screen');
    // Eight screens, each loaded and audited: over 30 s on a loaded machine.
  }, 90_000);

  it('a rep approves an edited draft, and the note created carries the rep’s words; a draft on a record they do not own says why they cannot decide it', async () => {
    const adminToken = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    const agentToken = fs.readFileSync(path.join(data.dir, 'demo', 'enrichment-agent.token'), 'utf8');
    let recordId = '';
    let owner = '';
    for (let id = 1010; !owner; id++) {
      const record = await http('GET', `${sandboxUrl}/_sandbox/records/contacts/${id}`);
      owner = record.body.values?.hubspot_owner_id ?? '';
      recordId = String(id);
    }
    await http('PUT', `${serverUrl}/v1/admin/people/3001`, {
      token: adminToken,
      body: { role: 'rep', crmOwnerId: owner },
    });
    const draft = await http('POST', `${serverUrl}/v1/actions`, {
      token: agentToken,
      body: {
        kind: 'create_note',
        objectType: 'contacts',
        recordId,
        body: 'Asked for the pricing sheet.',
        evidence: { source: 'call-notes', confidence: 0.9, reason: 'From the call summary' },
      },
    });
    expect(draft.body.status).toBe('pending');
    // And one on a record the rep does not own, which they may read but not decide.
    let othersRecord = '';
    for (let id = 1001; !othersRecord; id++) {
      const record = await http('GET', `${sandboxUrl}/_sandbox/records/contacts/${id}`);
      if (record.status === 200 && (record.body.values?.hubspot_owner_id ?? '') !== owner) othersRecord = String(id);
    }
    const othersDraft = await http('POST', `${serverUrl}/v1/actions`, {
      token: agentToken,
      body: {
        kind: 'create_note',
        objectType: 'contacts',
        recordId: othersRecord,
        body: 'Not the rep’s contact.',
        evidence: { source: 'call-notes', confidence: 0.9, reason: 'From the call summary' },
      },
    });
    expect(othersDraft.body.status).toBe('pending');
    const link = await http('POST', `${serverUrl}/v1/admin/console-links`, {
      token: adminToken,
      body: { crmUserId: '3001' },
    });
    // Another person signs in on this browser: leave the live inbox first, whose stream would
    // otherwise reconnect with the session that signing in ends (a 401 logged by the old page).
    await page.goto('about:blank');
    await signInThroughLink(page, link.body.url);
    const others = page.getByRole('article', { name: `Note draft on contacts ${othersRecord}` });
    await others.waitFor(SERVER_WAIT);
    expect(await others.locator('p.muted').textContent()).toBe(
      'Only the record owner, an approver or an admin can release or reject this draft.',
    );
    expect(await others.getByRole('button').count()).toBe(0);
    const card = page.getByRole('article', { name: `Note draft on contacts ${recordId}` });
    await card.getByRole('button', { name: 'Edit draft then approve' }).click();
    await card.getByLabel('Body').fill('Asked for the pricing sheet; sent it on Monday.');
    await card.getByRole('button', { name: 'Approve edited draft' }).click();
    await card.waitFor({ state: 'detached' });
    const decided = await http('GET', `${serverUrl}/v1/admin/actions/${draft.body.id}`, { token: adminToken });
    expect(JSON.stringify(decided.body)).toContain('sent it on Monday');
    expect(decided.body.status).not.toBe('pending');
    await screenshot('rep-approves-edited-draft');
  });

  it('two people approve a two-person item: the second sees who approved first and starts from their edit, and the deal is written after both', async () => {
    const adminToken = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    const routing = await http('POST', `${serverUrl}/v1/admin/agents`, {
      token: adminToken,
      body: { name: 'demo-router', role: 'routing' },
    });
    const dealId = String(1001 + SEED_CONTACTS);
    const submitted = await http('POST', `${serverUrl}/v1/changesets`, {
      token: routing.body.token,
      body: {
        batchId: 'two-person-batch',
        objectType: 'deals',
        changes: [
          {
            recordId: dealId,
            properties: { amount: '123000' },
            evidence: { source: 'crm-notes', confidence: 0.9, reason: 'Signed order form' },
          },
        ],
      },
    });
    expect(submitted.status).toBe(201);
    for (const [crmUserId, role] of [
      ['2201', 'approver'],
      ['2202', 'revops_admin'],
    ])
      await http('PUT', `${serverUrl}/v1/admin/people/${crmUserId}`, { token: adminToken, body: { role } });
    const signInAs = async (crmUserId: string) => {
      const link = await http('POST', `${serverUrl}/v1/admin/console-links`, {
        token: adminToken,
        body: { crmUserId },
      });
      // Leave the live inbox first: its stream would reconnect with the session signing in ends.
      await page.goto('about:blank');
      await signInThroughLink(page, link.body.url);
      await page.goto(`${serverUrl}/inbox?batch=two-person-batch`);
      const card = page.getByRole('article', { name: `Proposal on deals ${dealId}` });
      await card.waitFor();
      return card;
    };

    const first = await signInAs('2201');
    await expect
      .poll(() => first.locator('.two-person').textContent(), SERVER_WAIT)
      .toContain('nobody has approved yet');
    // The first approver corrects the amount; the second, who edits nothing, must not undo that correction.
    await first.getByRole('button', { name: 'Edit then approve' }).click();
    await first.getByLabel('New value for amount').fill('124000');
    await first.getByRole('button', { name: 'Approve edited values' }).click();
    await expect
      .poll(() => first.locator('.two-person').textContent(), SERVER_WAIT)
      .toContain('approved first by user 2201');
    expect(await first.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(0);

    const second = await signInAs('2202');
    await expect
      .poll(() => second.locator('.two-person').textContent(), SERVER_WAIT)
      .toBe('Two people must approve: approved first by user 2201; waiting for a second person.');
    await screenshot('two-person-approved-first');
    await second.getByRole('button', { name: 'Edit then approve' }).click();
    expect(await second.getByLabel('New value for amount').inputValue()).toBe('124000');
    await second.getByRole('button', { name: 'Approve edited values' }).click();
    await second.waitFor({ state: 'detached' });
    await expect
      .poll(
        async () => (await http('GET', `${sandboxUrl}/_sandbox/records/deals/${dealId}`)).body.values.amount,
        SERVER_WAIT,
      )
      .toBe('124000');
    await screenshot('two-person-approved-by-both');
  });

  it('an auditor reconstructs one write and one draft from the audit trail and verifies the chain', async () => {
    const adminToken = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    await http('PUT', `${serverUrl}/v1/admin/people/2001`, { token: adminToken, body: { role: 'auditor' } });
    const link = await http('POST', `${serverUrl}/v1/admin/console-links`, {
      token: adminToken,
      body: { crmUserId: '2001' },
    });
    // Another person signs in on this browser: leave the live inbox first, whose stream would
    // otherwise reconnect with the session that signing in ends (a 401 logged by the old page).
    await page.goto('about:blank');
    await signInThroughLink(page, link.body.url);
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);

    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByRole('row').filter({ hasText: 'change.applied' }).first().waitFor();
    // The filtered search's answer is held back: meanwhile the rows found without the filter must
    // not stay on screen, where they could be taken for (and opened as) what the filter found.
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const filtered = /\/console\/api\/audit\?.*batch=demo-enrichment-0/;
    await page.route(filtered, async (route) => {
      await answered;
      await route.continue();
    });
    await page.getByLabel('Batch').fill('demo-enrichment-0');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Loading…').waitFor();
    expect(await page.getByRole('row').count()).toBe(0);
    answer();
    const applied = page.getByRole('row').filter({ hasText: 'change.applied' }).first();
    await applied.getByRole('link').click();
    await page.getByRole('heading', { name: /^Audit event \d+$/ }).waitFor();
    const story = page.getByRole('list', { name: 'The story' });
    await story.waitFor();
    expect(await story.textContent()).toContain('change.decided');
    expect(await story.textContent()).toContain('change.applied');
    const event = await page.getByRole('list', { name: 'The story' }).locator('li.current').textContent();
    expect(event).toContain('demo-enricher');
    expect(await page.locator('dl[aria-label="The event"]').textContent()).toMatch(/Policy version\s*1/);
    // change.applied carries no evidence: the page joins it from the change set's record.
    expect(await page.getByText('Evidence kept with the change set’s record').count()).toBe(1);
    expect(await page.locator('dl[aria-label="Evidence"]').textContent()).toMatch(/Run id\s*demo-run-0/);
    expect(await page.getByRole('table', { name: 'CRM result' }).textContent()).toContain('applied');

    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await expect.poll(() => page.getByRole('status').textContent(), SERVER_WAIT).toMatch(/The chain holds/);
    await page.goBack();
    await page.getByRole('list', { name: 'The story' }).waitFor();
    await screenshot('audit-one-write');

    // One draft's page, reached from the audit search: the agent's HTML shows as text and never runs.
    const agentToken = fs.readFileSync(path.join(data.dir, 'demo', 'enrichment-agent.token'), 'utf8');
    const payload = '<img src=x onerror="window.__xss=3"><script>window.__xss=4</script>';
    const note = await http('POST', `${serverUrl}/v1/actions`, {
      token: agentToken,
      body: {
        kind: 'create_note',
        objectType: 'contacts',
        recordId: '1004',
        body: payload,
        evidence: { source: 'call-notes', reason: payload, runId: 'run-xss' },
      },
    });
    expect(note.body.status).toBe('pending');
    await page.goto(`${serverUrl}/audit?record=1004&type=action.submitted`);
    await page.getByRole('link', { name: 'the draft' }).first().click();
    await page.getByRole('heading', { name: `Note ${note.body.id}` }).waitFor();
    expect(await page.locator('dl[aria-label="As submitted"]').textContent()).toContain(payload);
    expect(await page.locator('dl[aria-label="Evidence"]').textContent()).toContain(payload);
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    await screenshot('audit-one-draft');
  });

  it('a double click on Approve sends one decision, and the person sees no refusal of a second', async () => {
    const adminToken = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    await submitContacts('double-click-batch', [
      {
        recordId: '1004',
        properties: { phone: '+1 555 0199' },
        evidence: { source: 'clearbit', confidence: 0.9, reason: 'Company site lists it' },
      },
    ]);
    const link = await http('POST', `${serverUrl}/v1/admin/console-links`, {
      token: adminToken,
      body: { crmUserId: '1001' },
    });
    await page.goto('about:blank');
    await signInThroughLink(page, link.body.url);
    await page.goto(`${serverUrl}/inbox?batch=double-click-batch`);
    const card = page.getByRole('article', { name: 'Proposal on contacts 1004' });
    await card.waitFor();
    const decisions: string[] = [];
    const count = (request: { url(): string; method(): string }) => {
      if (request.method() === 'POST' && request.url().endsWith('/decisions')) decisions.push(request.url());
    };
    page.on('request', count);
    await card.getByRole('button', { name: 'Approve', exact: true }).dblclick();
    await card.waitFor({ state: 'detached', ...SERVER_WAIT });
    page.off('request', count);
    expect(decisions).toHaveLength(1);
    expect(await page.getByRole('alert').count()).toBe(0);
  }, 60_000);

  it('a batch with more events than its page shows says so and leads to the older ones', async () => {
    await submitContacts(
      'long-batch',
      Array.from({ length: 210 }, (_, index) => ({
        recordId: String(1051 + index),
        properties: { jobtitle: 'VP Engineering' },
        evidence: { source: 'clearbit', confidence: 0.93, reason: 'Company site lists the new title' },
      })),
    );
    await page.goto(`${serverUrl}/batches/long-batch`);
    const older = page.getByRole('link', { name: 'Older events of this batch' });
    await older.waitFor(SERVER_WAIT);
    expect(await page.locator('table tbody tr').count()).toBe(200);
    await older.click();
    await page.waitForURL(/\/audit\?batch=long-batch&before=\d+$/);
    await expect.poll(() => page.locator('table tbody tr').count(), SERVER_WAIT).toBeGreaterThan(0);
  }, 60_000);

  it('a 60,000-character proposal reads whole on demand, as text, before anyone approves it', async () => {
    const hostile = '<img src=x onerror="window.__xss=3"> [Verify here](javascript:alert(1)) \u202Eend';
    const long = `${'Acme '.repeat(12_000)}${hostile}`;
    // Without a source URL the company change waits for a person; a record no other story holds.
    await submitContacts('long-value-batch', [
      {
        recordId: '1291',
        properties: { company: long },
        evidence: { source: 'clearbit', confidence: 0.9, reason: 'Company site lists it' },
      },
    ]);
    await page.goto(`${serverUrl}/inbox?batch=long-value-batch`);
    const card = page.getByRole('article', { name: 'Proposal on contacts 1291' });
    await card.waitFor(SERVER_WAIT);
    const whole = card.locator('details');
    const summary = (await whole.locator('summary').textContent()) ?? '';
    expect(summary).toContain('(show the whole value)');
    expect(summary).not.toContain('Verify here');
    await whole.locator('summary').click();
    expect(await whole.evaluate((node) => (node as unknown as { open: boolean }).open)).toBe(true);
    expect(await whole.textContent()).toContain(
      `${'Acme '.repeat(12_000)}<img src=x onerror="window.__xss=3"> [Verify here](javascript:alert(1)) ⟨U+202E⟩end`,
    );
    expect(await card.locator('img, script, a[href^="javascript"]').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    await screenshot('inbox-long-value-whole');
  }, 60_000);

  it('when the server cannot be reached, fails or the session ended mid-decision, the person is told so and keeps their edit', async () => {
    const adminToken = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    await submitContacts('server-down-batch', [
      {
        recordId: '1292',
        properties: { company: 'Acme Corp' },
        evidence: { source: 'clearbit', confidence: 0.9, reason: 'Company site lists it' },
      },
    ]);
    const link = await http('POST', `${serverUrl}/v1/admin/console-links`, {
      token: adminToken,
      body: { crmUserId: '1001' },
    });
    // A page of its own: the browser reports the failed requests on purpose here.
    const context = await browser.newContext();
    const own = await context.newPage();
    try {
      await signInThroughLink(own, link.body.url);
      await own.goto(`${serverUrl}/inbox?batch=server-down-batch`);
      const card = own.getByRole('article', { name: 'Proposal on contacts 1292' });
      await card.waitFor(SERVER_WAIT);
      await card.getByRole('button', { name: 'Edit then approve' }).click();
      await card.getByLabel('New value for company').fill('Acme Corporation');

      await own.route('**/console/api/approvals/*/decisions', (route) => route.abort('connectionrefused'));
      await card.getByRole('button', { name: 'Approve edited values' }).click();
      await expect
        .poll(() => card.getByRole('alert').textContent(), SERVER_WAIT)
        .toBe('Agent Governance could not be reached. Try again in a moment.');
      expect(await card.getByLabel('New value for company').inputValue()).toBe('Acme Corporation');

      await own.unroute('**/console/api/approvals/*/decisions');
      await own.route('**/console/api/approvals/*/decisions', (route) =>
        route.fulfill({ status: 502, contentType: 'text/html', body: '<html><body>Bad gateway</body></html>' }),
      );
      await card.getByRole('button', { name: 'Approve edited values' }).click();
      await expect
        .poll(() => card.getByRole('alert').textContent(), SERVER_WAIT)
        .toBe('Agent Governance answered 502. Try again in a moment.');
      expect(await card.getByLabel('New value for company').inputValue()).toBe('Acme Corporation');

      await own.unroute('**/console/api/approvals/*/decisions');
      // The session ends under the open page (8 hours, or a sign-out elsewhere).
      await context.clearCookies();
      await card.getByRole('button', { name: 'Approve edited values' }).click();
      await expect
        .poll(() => card.getByRole('alert').textContent(), SERVER_WAIT)
        .toContain('Your console session has ended');
      expect(await card.getByRole('alert').textContent()).toContain('Nothing was changed.');
      expect(await card.getByLabel('New value for company').inputValue()).toBe('Acme Corporation');

      // Signed in again in another tab, as the message says, the same click goes through with the edit.
      const again = await http('POST', `${serverUrl}/v1/admin/console-links`, {
        token: adminToken,
        body: { crmUserId: '1001' },
      });
      const tab = await context.newPage();
      await signInThroughLink(tab, again.body.url);
      await tab.close();
      await card.getByRole('button', { name: 'Approve edited values' }).click();
      await card.waitFor({ state: 'detached', ...SERVER_WAIT });
      await expect
        .poll(
          async () => (await http('GET', `${sandboxUrl}/_sandbox/records/contacts/1292`)).body.values.company,
          SERVER_WAIT,
        )
        .toBe('Acme Corporation');
    } finally {
      await context.close();
    }
  }, 60_000);

  it('no screen raised a script error or broke the Content-Security-Policy', () => {
    expect(pageErrors).toEqual([]);
  });
});
