import { describe, expect, it, vi } from 'vitest';
import { Alert, Button, Input, MultiSelect, Select } from '@hubspot/ui-extensions';
import { createRenderer } from '../support/ui-renderer.ts';
import { Settings } from '../../extension/src/app/settings/Settings.tsx';
import type { SettingsView } from '../../shared/extension-api.ts';
import type { Policy } from '../../shared/policy.ts';
import { allText, fakeBackend, typeInto } from './fake-backend.ts';
import { POLICY, settingsView } from './fixtures.ts';

/** The settings page's caps, windows, conditions, dual control and roles (issue 8), rendered by HubSpot's own test renderer. */

const RULES: Policy = {
  ...POLICY,
  caps: { writesPerRecordPerDay: 20 },
  windows: [
    {
      actions: ['send_email'],
      roles: ['outreach'],
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      start: '08:00',
      end: '18:00',
    },
  ],
  conditions: [{ kind: 'confidence_below', threshold: 0.7, raiseTo: 'approval' }],
};

function ownerView(overrides: Partial<SettingsView> = {}): SettingsView {
  const view = settingsView('owner');
  return { ...view, policy: { version: 3, policy: RULES }, ...overrides };
}

function renderSettings(routes: Parameters<typeof fakeBackend>[0]) {
  const renderer = createRenderer('settings');
  const backend = fakeBackend({
    'GET /teams': {
      body: {
        teams: [
          { id: '7001', name: 'Sales' },
          { id: '7002', name: 'RevOps' },
        ],
      },
    },
    ...routes,
  });
  renderer.render(<Settings fetcher={backend.fetcher} />);
  return { renderer, backend };
}

/** A MultiSelect answers with a list; the SDK's `trigger` is typed for strings only. */
function pick(node: { trigger: (...args: never[]) => void }, values: string[]): void {
  (node.trigger as (event: 'onChange', argument: string[]) => void)('onChange', values);
}

const ready = (renderer: ReturnType<typeof createRenderer>) =>
  renderer.waitFor(() => expect(renderer.maybeFind(Input, { name: 'cap.all.writesPerRecordPerDay' })).not.toBeNull());
const input = (renderer: ReturnType<typeof createRenderer>, name: string) => renderer.find(Input, { name });
const published = (backend: ReturnType<typeof fakeBackend>) =>
  backend.calls.find((call) => call.path === '/policies')?.init?.body?.document as Policy | undefined;

describe('editing caps, windows and conditions', () => {
  it('edits a cap, a window and a condition, and publishes them as one new version', async () => {
    const { renderer, backend } = renderSettings({
      'GET /settings': { body: ownerView() },
      'POST /policies': { status: 201, body: { version: 4 } },
    });
    await ready(renderer);
    typeInto(input(renderer, 'cap.all.writesPerRecordPerDay'), '10');
    typeInto(input(renderer, 'cap.enrichment.writesPerAgentPerDay'), '500');
    typeInto(input(renderer, 'window.0.end'), '16:00');
    pick(renderer.find(MultiSelect, { name: 'window.0.days' }), ['mon', 'tue']);
    typeInto(input(renderer, 'condition.0.threshold'), '0.85');
    typeInto(renderer.find(Select, { name: 'condition.0.raiseTo' }), 'two_person');
    await renderer.waitFor(() => expect(renderer.findByTestId(Button, 'publish').text).toBe('Publish 4 changes'));
    renderer.findByTestId(Button, 'publish').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'success',
      message: 'Published policy version 4 (4 changes).',
    });
    expect(published(backend)).toMatchObject({
      caps: { writesPerRecordPerDay: 10, roleCaps: { enrichment: { writesPerAgentPerDay: 500 } } },
      windows: [{ actions: ['send_email'], roles: ['outreach'], days: ['mon', 'tue'], start: '08:00', end: '16:00' }],
      conditions: [{ kind: 'confidence_below', threshold: 0.85, raiseTo: 'two_person' }],
      objects: RULES.objects,
    });
  });

  it('adds a window and an evidence condition, removes a cap, and sends only the policy’s own fields', async () => {
    const { renderer, backend } = renderSettings({
      'GET /settings': { body: ownerView() },
      'POST /policies': { status: 201, body: { version: 4 } },
    });
    await ready(renderer);
    renderer.findByTestId(Button, 'add-window').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFind(Input, { name: 'window.1.timezone' })).not.toBeNull());
    typeInto(input(renderer, 'window.1.timezone'), 'Europe/Paris');
    typeInto(renderer.find(Select, { name: 'new-condition-kind' }), 'evidence');
    renderer.findByTestId(Button, 'add-condition').trigger('onClick');
    await renderer.waitFor(() =>
      expect(renderer.maybeFind(Input, { name: 'condition.1.allowedSources' })).not.toBeNull(),
    );
    typeInto(input(renderer, 'condition.1.allowedSources'), 'clearbit, apollo');
    typeInto(input(renderer, 'cap.all.writesPerRecordPerDay'), '');
    renderer.findByTestId(Button, 'remove-condition-0').trigger('onClick');
    // A window added, a cap removed, and the condition list differing in one place (the evidence one took the first's).
    await renderer.waitFor(() => expect(renderer.findByTestId(Button, 'publish').text).toBe('Publish 3 changes'));
    renderer.findByTestId(Button, 'publish').trigger('onClick');
    await renderer.waitFor(() => expect(published(backend)).toBeDefined());
    const document = published(backend)!;
    expect(document.caps).toEqual({});
    expect(document.windows[1]).toEqual({
      actions: ['send_email'],
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      start: '09:00',
      end: '17:00',
      timezone: 'Europe/Paris',
    });
    expect(document.conditions).toEqual([
      { kind: 'evidence', requireUrl: true, allowedSources: ['clearbit', 'apollo'], raiseTo: 'approval' },
    ]);
  });

  it('says a cap that is not a number is wrong before anything is sent', async () => {
    const { renderer } = renderSettings({ 'GET /settings': { body: ownerView() } });
    await ready(renderer);
    typeInto(input(renderer, 'cap.all.writesPerRecordPerDay'), 'ten');
    await renderer.waitFor(() => expect(input(renderer, 'cap.all.writesPerRecordPerDay').props.error).toBe(true));
    expect(input(renderer, 'cap.all.writesPerRecordPerDay').props.validationMessage).toBe(
      'Write a number, or leave it empty for no cap.',
    );
    expect(renderer.maybeFindByTestId(Button, 'publish')).toBeNull();
  });

  it('shows the server’s validation sentences plainly and keeps the draft to fix', async () => {
    const issue = 'caps.writesPerRecordPerDay must be greater than 0';
    const { renderer } = renderSettings({
      'GET /settings': { body: ownerView() },
      'POST /policies': {
        status: 400,
        body: {
          error: { code: 'POLICY_INVALID', message: `The policy is not valid: ${issue}`, details: { issues: [issue] } },
        },
      },
    });
    await ready(renderer);
    typeInto(input(renderer, 'cap.all.writesPerRecordPerDay'), '0');
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'publish')).not.toBeNull());
    renderer.findByTestId(Button, 'publish').trigger('onClick');
    await renderer.waitFor(() =>
      expect(renderer.maybeFind(Alert, { title: 'The policy was not published: fix these first' })).not.toBeNull(),
    );
    expect(allText(renderer.getRootNode())).toContain(issue);
    expect(renderer.findByTestId(Button, 'publish').text).toBe('Publish 1 change');
  });
});

describe('dual control on the settings page', () => {
  const request = (requestedBy: string): SettingsView['governanceRequests'][number] => ({
    id: '0190aaaa-0000-7000-8000-000000000001',
    kind: 'policy_publish',
    reasons: [{ code: 'cap_raised', message: 'writesPerRecordPerDay rises from 20 to 100, more than 25%.' }],
    requestedBy,
    requestedAt: '2026-11-23T10:00:00.000Z',
  });

  it('says a second admin must confirm when publishing answers 409, and lists the request without a confirm button for its requester', async () => {
    let reads = 0;
    const { renderer } = renderSettings({
      'GET /settings': () => ({
        body: reads++ === 0 ? ownerView() : ownerView({ governanceRequests: [request('person:1')] }),
      }),
      'POST /policies': {
        status: 409,
        body: {
          error: {
            code: 'SECOND_ADMIN_REQUIRED',
            message: 'A second admin confirms it.',
            details: { requestId: request('').id, reasons: request('').reasons },
          },
        },
      },
    });
    await ready(renderer);
    typeInto(input(renderer, 'cap.all.writesPerRecordPerDay'), '100');
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'publish')).not.toBeNull());
    renderer.findByTestId(Button, 'publish').trigger('onClick');
    await renderer.waitFor(() =>
      expect(renderer.maybeFind(Alert, { title: 'A second admin must confirm this change' })).not.toBeNull(),
    );
    const text = allText(renderer.getRootNode());
    expect(text).toContain('writesPerRecordPerDay rises from 20 to 100, more than 25%.');
    expect(text).toContain(`It waits as request ${request('').id}`);
    // The page reloads and lists the request; its requester may cancel it but not confirm it.
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, `cancel-${request('').id}`)).not.toBeNull());
    expect(allText(renderer.getRootNode())).toContain('You asked for this change');
    expect(renderer.maybeFindByTestId(Button, `confirm-${request('').id}`)).toBeNull();
    expect(renderer.mocks.actions.addAlert.called).toBe(false);
  });

  it('lets another admin confirm a waiting change', async () => {
    const { renderer, backend } = renderSettings({
      'GET /settings': { body: ownerView({ governanceRequests: [request('person:701')] }) },
      [`POST /governance-requests/${request('').id}/confirm`]: { body: { status: 'confirmed' } },
    });
    await renderer.waitFor(() =>
      expect(renderer.maybeFindByTestId(Button, `confirm-${request('').id}`)).not.toBeNull(),
    );
    renderer.findByTestId(Button, `confirm-${request('').id}`).trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(backend.calls.find((call) => call.path.startsWith('/governance-requests'))?.init).toEqual({
      method: 'POST',
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'success',
      message: 'Confirmed: the change is in force.',
    });
  });
});

describe('people and teams', () => {
  it('gives a HubSpot team a role, picked from HubSpot’s teams', async () => {
    const { renderer, backend } = renderSettings({
      'GET /settings': { body: ownerView() },
      'PUT /team-roles/7002': { body: { teamId: '7002', role: 'revops_admin' } },
    });
    await renderer.waitFor(() => expect(renderer.maybeFind(Select, { name: 'assign-team-id' })).not.toBeNull());
    expect(allText(renderer.getRootNode())).toContain('Sales (7001)');
    typeInto(renderer.find(Select, { name: 'assign-role' }), 'revops_admin');
    typeInto(renderer.find(Select, { name: 'assign-team-id' }), '7002');
    await renderer.waitFor(() => expect(renderer.findByTestId(Button, 'assign-team').props.disabled).toBe(false));
    renderer.findByTestId(Button, 'assign-team').trigger('onClick');
    await renderer.waitFor(() => expect(backend.calls.some((call) => call.path === '/team-roles/7002')).toBe(true));
    expect(backend.calls.find((call) => call.path === '/team-roles/7002')?.init).toEqual({
      method: 'PUT',
      body: { role: 'revops_admin' },
    });
    await vi.waitFor(() =>
      expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
        type: 'success',
        message: 'HubSpot team 7002 is now revops_admin.',
      }),
    );
  });

  it('offers a RevOps admin every role but owner, and says where the caller’s role comes from', async () => {
    const view = settingsView('revops_admin', { access: { source: { kind: 'team', teamId: '7002' } } });
    const { renderer } = renderSettings({ 'GET /settings': { body: view } });
    await renderer.waitFor(() =>
      expect(allText(renderer.getRootNode())).toContain('through your HubSpot team RevOps (7002)'),
    );
    expect(renderer.find(Select, { name: 'assign-role' }).props.options.map((option) => option.value)).toEqual([
      'revops_admin',
      'approver',
      'rep',
      'auditor',
    ]);
  });

  it('shows an approver who has which role, with nothing to change', async () => {
    const { renderer } = renderSettings({ 'GET /settings': { body: settingsView('approver') } });
    await renderer.waitFor(() => expect(allText(renderer.getRootNode())).toContain('People and teams'));
    expect(renderer.maybeFindByTestId(Button, 'assign-team')).toBeNull();
    expect(renderer.maybeFind(Select, { name: 'team-role.7001' })).toBeNull();
    expect(allText(renderer.getRootNode())).toContain('team 7001');
  });
});
