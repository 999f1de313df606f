import { describe, expect, it, vi } from 'vitest';
import { Alert, Button, Input, Select, TextArea } from '@hubspot/ui-extensions';
import { createRenderer } from '../support/ui-renderer.ts';
import { Settings } from '../../extension/src/app/settings/Settings.tsx';
import type { PersonRole } from '../../server/src/domain/approval-lifecycle.ts';
import type { AgentSafetyView, RegressionRun, RegressionSet } from '../../shared/agent-safety-api.ts';
import type { SettingsView } from '../../shared/extension-api.ts';
import { allText, fakeBackend, typeInto } from './fake-backend.ts';
import { POLICY, settingsView } from './fixtures.ts';

/**
 * The settings page's agent safety (issues 19, 21): each agent's use of the policy's budgets today,
 * its safety and regression set, releasing it past a failing set (owners only), and segments by
 * record condition, rendered by HubSpot's own test renderer against a stand-in backend.
 */

const ENRICHER = '00000000-0000-4000-8000-000000000001';
const ROUTER = '00000000-0000-4000-8000-000000000002';
const AGENTS: SettingsView['agents'] = [
  { id: ENRICHER, name: 'enricher', role: 'enrichment', status: 'active', createdAt: '2026-11-20T09:00:00.000Z' },
  { id: ROUTER, name: 'router', role: 'routing', status: 'active', createdAt: '2026-11-21T09:00:00.000Z' },
];
const SAFETY: AgentSafetyView = {
  agentId: ENRICHER,
  safeModeUntil: '2026-11-25T09:00:00.000Z',
  inSafeMode: true,
  acceptedPromptHash: 'sha256:aaa',
  pendingPromptHash: 'sha256:bbb',
  volume: { today: 40, trailingAverage: 12, jumped: true, acceptedToday: false },
  holds: ['safe_mode', 'prompt_changed', 'volume_jump'],
  regressionCases: 1,
};
const CASE = {
  kind: 'change' as const,
  name: 'phone needs a person',
  objectType: 'contacts' as const,
  change: {
    recordId: '1',
    properties: { phone: '+1 555 0100' },
    evidence: { source: 'apollo', reason: 'profile says so' },
  },
  expected: { tier: 'approval' as const, reasons: [] },
};
const SET: RegressionSet = { cases: [CASE] };
const FAILED_RUN: RegressionRun = {
  agentId: ENRICHER,
  policyVersion: 3,
  passed: false,
  cases: [],
  recent: { lookbackHours: 24, replayed: 0, failures: [] },
  failures: ['Case "phone needs a person": expected approval, got auto for phone.'],
};

function view(role: PersonRole, overrides: Partial<SettingsView> = {}): SettingsView {
  return {
    ...settingsView(role, { agents: AGENTS }),
    policy: {
      version: 3,
      policy: {
        ...POLICY,
        budgets: { crmCallsPerAgentPerDay: 500, spendPerAgentPerDay: { amount: 5, currency: 'USD' } },
      },
    },
    budgetUsage: {
      day: '2026-11-23',
      agents: [{ agentId: ENRICHER, crmCalls: 12, spend: [{ currency: 'USD', amount: 0.04 }] }],
    },
    ...overrides,
  };
}

function renderSettings(role: PersonRole, routes: Parameters<typeof fakeBackend>[0] = {}, settings = view(role)) {
  const renderer = createRenderer('settings');
  const backend = fakeBackend({
    'GET /settings': { body: settings },
    'GET /teams': { body: { teams: [] } },
    'GET /retention': { body: { periods: {}, nextRunAt: null, running: null } },
    [`GET /agents/${ENRICHER}/safety`]: { body: SAFETY },
    [`GET /agents/${ENRICHER}/regression-set`]: { body: SET },
    ...routes,
  });
  renderer.render(<Settings fetcher={backend.fetcher} />);
  return { renderer, backend };
}

type Renderer = ReturnType<typeof createRenderer>;
const safetyReady = (renderer: Renderer) =>
  renderer.waitFor(() => expect(renderer.maybeFind(TextArea, { name: 'regression-set' })).not.toBeNull());
const button = (renderer: Renderer, testId: string) => renderer.findByTestId(Button, testId);
const calls = (backend: ReturnType<typeof fakeBackend>, path: string) =>
  backend.calls.filter((call) => call.path === path);
const refusal = (code: string, message: string, details?: unknown) => ({
  error: { code, message, ...(details === undefined ? {} : { details }) },
});

describe('budget use on the settings page', () => {
  it('shows each agent’s CRM calls and spend today against the policy’s per-agent budgets', async () => {
    const { renderer } = renderSettings('auditor');
    await renderer.waitFor(() => expect(allText(renderer.getRootNode())).toContain('Used today'));
    const text = allText(renderer.getRootNode());
    expect(text).toContain('12 of 500 CRM calls, 0.04 of 5 USD');
    expect(text).toContain('0 of 500 CRM calls, 0 of 5 USD');
  });
});

describe('agent safety and regression sets on the settings page', () => {
  it('shows what holds the agent’s writes and its cases, and accepts the new prompt with a reason', async () => {
    const { renderer, backend } = renderSettings('revops_admin', {
      [`POST /agents/${ENRICHER}/change-acceptances`]: { body: { ...SAFETY, pendingPromptHash: null } },
    });
    await safetyReady(renderer);
    const text = allText(renderer.getRootNode());
    expect(text).toContain(`on until ${new Date('2026-11-25T09:00:00.000Z').toLocaleString()}`);
    expect(text).toContain('sha256:aaa; new, waiting for a person: sha256:bbb');
    expect(text).toContain('40 (trailing average 12.0), a jump');
    expect(text).toContain('safe_mode, prompt_changed, volume_jump');
    expect(String(renderer.find(TextArea, { name: 'regression-set' }).props.value)).toContain('phone needs a person');

    expect(button(renderer, 'accept-prompt').props.disabled).toBe(true);
    typeInto(renderer.find(Input, { name: 'acceptance-reason' }), 'Prompt v7 reviewed');
    await renderer.waitFor(() => expect(button(renderer, 'accept-prompt').props.disabled).toBe(false));
    button(renderer, 'accept-prompt').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(calls(backend, `/agents/${ENRICHER}/change-acceptances`)[0]?.init).toEqual({
      method: 'POST',
      body: { gate: 'prompt', reason: 'Prompt v7 reviewed' },
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'success',
      message: 'The new prompt hash is accepted.',
    });
    await vi.waitFor(() => expect(calls(backend, `/agents/${ENRICHER}/safety`)).toHaveLength(2));
  });

  it('stores the cases as typed, and shows the backend’s sentence when it refuses them', async () => {
    const edited = { cases: [{ ...CASE, name: 'renamed' }] };
    const { renderer, backend } = renderSettings('owner', {
      [`PUT /agents/${ENRICHER}/regression-set`]: (call) =>
        (call.init?.body as RegressionSet | undefined)?.cases[0]?.name === 'renamed'
          ? { body: edited }
          : { status: 400, body: refusal('VALIDATION_FAILED', 'The regression set: cases must name each case once') },
    });
    await safetyReady(renderer);
    typeInto(renderer.find(TextArea, { name: 'regression-set' }), '{"cases": [');
    await renderer.waitFor(() => expect(button(renderer, 'save-regression-set').props.disabled).toBe(true));
    expect(renderer.find(TextArea, { name: 'regression-set' }).props.validationMessage).toContain('is not JSON');

    typeInto(renderer.find(TextArea, { name: 'regression-set' }), JSON.stringify({ cases: [CASE, CASE] }));
    await renderer.waitFor(() => expect(button(renderer, 'save-regression-set').props.disabled).toBe(false));
    button(renderer, 'save-regression-set').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'danger',
      message: 'The regression set: cases must name each case once',
    });

    typeInto(renderer.find(TextArea, { name: 'regression-set' }), JSON.stringify(edited));
    await renderer.waitFor(() => expect(button(renderer, 'save-regression-set').props.disabled).toBe(false));
    button(renderer, 'save-regression-set').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.calls).toHaveLength(2));
    // Stored, the set is read again: the editor starts from what the backend now holds.
    await vi.waitFor(() =>
      expect(calls(backend, `/agents/${ENRICHER}/regression-set`).at(-1)?.init?.method).toBeUndefined(),
    );
    const put = calls(backend, `/agents/${ENRICHER}/regression-set`).filter((call) => call.init?.method === 'PUT');
    expect(put.at(-1)?.init).toEqual({ method: 'PUT', body: edited });
    expect(renderer.mocks.actions.addAlert.calls[1]?.[0]).toMatchObject({
      type: 'success',
      message: 'Stored 1 case(s).',
    });
  });

  it('runs the set and lists its failures; a refused run shows the backend’s sentence', async () => {
    let answer: { status?: number; body: unknown } = { body: FAILED_RUN };
    const { renderer, backend } = renderSettings('approver', {
      [`POST /agents/${ENRICHER}/regression-runs`]: () => answer,
    });
    await safetyReady(renderer);
    button(renderer, 'run-regression-set').trigger('onClick');
    await renderer.waitFor(() =>
      expect(renderer.maybeFind(Alert, { title: 'The regression set fails.' })).not.toBeNull(),
    );
    expect(allText(renderer.find(Alert, { title: 'The regression set fails.' }))).toContain(
      'Case "phone needs a person": expected approval, got auto for phone.',
    );
    expect(calls(backend, `/agents/${ENRICHER}/regression-runs`)[0]?.init).toEqual({ method: 'POST' });

    answer = { status: 404, body: refusal('NOT_FOUND', 'Agent x does not exist in this workspace.') };
    button(renderer, 'run-regression-set').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFind(Alert, { title: 'Not run' })).not.toBeNull());
    expect(allText(renderer.find(Alert, { title: 'Not run' }))).toContain('Agent x does not exist in this workspace.');
  });

  it.each<[PersonRole]>([['approver'], ['auditor']])('shows a %s the safety and cases read-only', async (role) => {
    const { renderer } = renderSettings(role);
    await safetyReady(renderer);
    expect(renderer.find(TextArea, { name: 'regression-set' }).props.readOnly).toBe(true);
    expect(renderer.maybeFindByTestId(Button, 'save-regression-set')).toBeNull();
    expect(renderer.maybeFindByTestId(Button, 'accept-prompt')).toBeNull();
    expect(renderer.maybeFindByTestId(Button, 'run-regression-set')).not.toBeNull();
  });

  it('switches to another agent’s safety', async () => {
    const { renderer, backend } = renderSettings('owner', {
      [`GET /agents/${ROUTER}/safety`]: { body: { ...SAFETY, agentId: ROUTER, inSafeMode: false, holds: [] } },
      [`GET /agents/${ROUTER}/regression-set`]: { body: { cases: [] } },
    });
    await safetyReady(renderer);
    typeInto(renderer.find(Select, { name: 'safety-agent' }), ROUTER);
    await vi.waitFor(() => expect(calls(backend, `/agents/${ROUTER}/regression-set`)).toHaveLength(1));
    await renderer.waitFor(() => expect(allText(renderer.getRootNode())).toContain('Regression set (0 case(s))'));
  });
});

describe('releasing an agent a kill trigger stopped', () => {
  const stopped = (role: PersonRole) =>
    view(role, {
      killSwitches: [
        {
          scope: 'agent',
          target: ENRICHER,
          engaged: true,
          reason: 'Kill trigger write_velocity',
          changedBy: 'system:kill-trigger',
          changedAt: '2026-11-23T09:00:00.000Z',
        },
      ],
    });
  const failing = {
    status: 409,
    body: refusal('REGRESSION_FAILED', 'A kill trigger stopped this agent, and its regression set does not pass.', {
      failures: FAILED_RUN.failures,
      policyVersion: 3,
    }),
  };

  it('shows the failures the server names, and lets an owner release it anyway', async () => {
    const { renderer, backend } = renderSettings(
      'owner',
      {
        'PUT /kill-switches': (call) =>
          (call.init?.body as { force?: boolean } | undefined)?.force ? { body: {} } : failing,
      },
      stopped('owner'),
    );
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, `kill-agent-${ENRICHER}`)).not.toBeNull());
    typeInto(renderer.find(Input, { name: 'kill-switch-reason' }), 'Checked the writes');
    await renderer.waitFor(() => expect(button(renderer, `kill-agent-${ENRICHER}`).props.disabled).toBe(false));
    button(renderer, `kill-agent-${ENRICHER}`).trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'force-release')).not.toBeNull());
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'danger',
      message: 'A kill trigger stopped this agent, and its regression set does not pass.',
    });
    expect(allText(renderer.getRootNode())).toContain(FAILED_RUN.failures[0]);

    button(renderer, 'force-release').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'force-release')).toBeNull());
    expect(calls(backend, '/kill-switches').map((call) => call.init)).toEqual([
      { method: 'PUT', body: { scope: 'agent', target: ENRICHER, engaged: false, reason: 'Checked the writes' } },
      {
        method: 'PUT',
        body: { scope: 'agent', target: ENRICHER, engaged: false, reason: 'Checked the writes', force: true },
      },
    ]);
    expect(renderer.mocks.actions.addAlert.calls[1]?.[0]).toMatchObject({
      type: 'success',
      message: 'Kill switch released.',
    });
  });

  it('offers a RevOps admin no way past the failures', async () => {
    const { renderer } = renderSettings('revops_admin', { 'PUT /kill-switches': failing }, stopped('revops_admin'));
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, `kill-agent-${ENRICHER}`)).not.toBeNull());
    typeInto(renderer.find(Input, { name: 'kill-switch-reason' }), 'Checked the writes');
    await renderer.waitFor(() => expect(button(renderer, `kill-agent-${ENRICHER}`).props.disabled).toBe(false));
    button(renderer, `kill-agent-${ENRICHER}`).trigger('onClick');
    await renderer.waitFor(() => expect(allText(renderer.getRootNode())).toContain('ask an owner'));
    expect(renderer.maybeFindByTestId(Button, 'force-release')).toBeNull();
  });
});

describe('segments by record condition', () => {
  const condition = {
    objectType: 'contacts' as const,
    property: 'lifecyclestage',
    op: 'eq' as const,
    value: 'customer',
  };
  const target = `record:${JSON.stringify(condition)}`;

  it('lists an engaged one by its condition and releases it by its target', async () => {
    const { renderer, backend } = renderSettings(
      'owner',
      { 'PUT /kill-switches': { body: {} } },
      view('owner', {
        killSwitches: [
          {
            scope: 'segment',
            target,
            condition,
            engaged: true,
            reason: 'Customers are off limits',
            changedBy: 'admin:cli',
            changedAt: '2026-11-23T09:00:00.000Z',
          },
        ],
      }),
    );
    await renderer.waitFor(() =>
      expect(allText(renderer.getRootNode())).toContain('Records where contacts.lifecyclestage eq customer: stopped'),
    );
    typeInto(renderer.find(Input, { name: 'kill-switch-reason' }), 'Campaign over');
    await renderer.waitFor(() => expect(button(renderer, `kill-segment-${target}`).props.disabled).toBe(false));
    button(renderer, `kill-segment-${target}`).trigger('onClick');
    await vi.waitFor(() =>
      expect(calls(backend, '/kill-switches')[0]?.init).toEqual({
        method: 'PUT',
        body: { scope: 'segment', target, engaged: false, reason: 'Campaign over' },
      }),
    );
  });

  it('engages a new one from its condition, and shows the backend’s sentence when refused', async () => {
    const sentence = 'The kill switch: condition.property must be a property name';
    const { renderer, backend } = renderSettings('revops_admin', {
      'PUT /kill-switches': { status: 400, body: refusal('VALIDATION_FAILED', sentence) },
    });
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'kill-segment-condition')).not.toBeNull());
    typeInto(renderer.find(Input, { name: 'kill-switch-reason' }), 'Big deals need people');
    typeInto(renderer.find(Select, { name: 'kill-condition-objectType' }), 'deals');
    typeInto(renderer.find(Input, { name: 'kill-condition-property' }), ' dealstage ');
    typeInto(renderer.find(Select, { name: 'kill-condition-op' }), 'in');
    typeInto(renderer.find(Input, { name: 'kill-condition-operand' }), 'closedwon, contractsent');
    await renderer.waitFor(() => expect(button(renderer, 'kill-segment-condition').props.disabled).toBe(false));
    button(renderer, 'kill-segment-condition').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(calls(backend, '/kill-switches')[0]?.init).toEqual({
      method: 'PUT',
      body: {
        scope: 'segment',
        condition: { objectType: 'deals', property: 'dealstage', op: 'in', values: ['closedwon', 'contractsent'] },
        engaged: true,
        reason: 'Big deals need people',
      },
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({ type: 'danger', message: sentence });
  });

  it('gives an approver no form to stop a segment', async () => {
    const { renderer } = renderSettings('approver');
    await safetyReady(renderer);
    expect(renderer.maybeFindByTestId(Button, 'kill-segment-condition')).toBeNull();
  });
});
