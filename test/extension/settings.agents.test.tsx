import { describe, expect, it, vi } from 'vitest';
import { Alert, Button, Input, Select } from '@hubspot/ui-extensions';
import { createRenderer } from '../support/ui-renderer.ts';
import { Settings } from '../../extension/src/app/settings/Settings.tsx';
import type { PersonRole } from '../../server/src/domain/approval-lifecycle.ts';
import type { SettingsView } from '../../shared/extension-api.ts';
import { allText, fakeBackend, typeInto } from './fake-backend.ts';
import { settingsView } from './fixtures.ts';

/** The settings page's agents and policy history (issue 8), rendered by HubSpot's own test renderer. */

const ENRICHER = '00000000-0000-4000-8000-000000000001';
const ROUTER = '00000000-0000-4000-8000-000000000002';
const OLD = '00000000-0000-4000-8000-000000000003';
const AGENTS: SettingsView['agents'] = [
  { id: ENRICHER, name: 'enricher', role: 'enrichment', status: 'active', createdAt: '2026-11-20T09:00:00.000Z' },
  { id: ROUTER, name: 'router', role: 'routing', status: 'paused', createdAt: '2026-11-21T09:00:00.000Z' },
  { id: OLD, name: 'old-outreach', role: 'outreach', status: 'revoked', createdAt: '2026-11-19T09:00:00.000Z' },
];
const TOKEN = 'agt_0123456789abcdef0123456789abcdef';

function renderSettings(role: PersonRole, routes: Parameters<typeof fakeBackend>[0] = {}) {
  const renderer = createRenderer('settings');
  const backend = fakeBackend({
    'GET /settings': { body: settingsView(role, { agents: AGENTS }) },
    'GET /teams': { body: { teams: [] } },
    ...routes,
  });
  renderer.render(<Settings fetcher={backend.fetcher} />);
  return { renderer, backend };
}

type Renderer = ReturnType<typeof createRenderer>;
const ready = (renderer: Renderer) =>
  renderer.waitFor(() => expect(allText(renderer.getRootNode())).toContain('old-outreach'));
const button = (renderer: Renderer, testId: string) => renderer.findByTestId(Button, testId);
const calls = (backend: ReturnType<typeof fakeBackend>, path: string) =>
  backend.calls.filter((call) => call.path === path);

describe('agents on the settings page', () => {
  it('creates an agent and shows its token once, with a plain warning, until the person says they copied it', async () => {
    const created = {
      id: '00000000-0000-4000-8000-000000000009',
      name: 'scout',
      role: 'prospecting',
      status: 'active',
      createdAt: '2026-11-23T10:00:00.000Z',
      token: TOKEN,
    };
    const { renderer, backend } = renderSettings('owner', { 'POST /agents': { status: 201, body: created } });
    await ready(renderer);
    expect(button(renderer, 'create-agent').props.disabled).toBe(true);
    typeInto(renderer.find(Input, { name: 'new-agent-name' }), '  scout ');
    typeInto(renderer.find(Select, { name: 'new-agent-role' }), 'prospecting');
    await renderer.waitFor(() => expect(button(renderer, 'create-agent').props.disabled).toBe(false));
    button(renderer, 'create-agent').trigger('onClick');

    await renderer.waitFor(() => expect(renderer.maybeFind(Input, { name: 'created-agent-token' })).not.toBeNull());
    expect(calls(backend, '/agents')[0]?.init).toEqual({
      method: 'POST',
      body: { name: 'scout', role: 'prospecting' },
    });
    expect(renderer.find(Input, { name: 'created-agent-token' }).props).toMatchObject({ value: TOKEN, readOnly: true });
    expect(allText(renderer.find(Alert, { variant: 'warning' }))).toContain('it will not be shown again');
    // The form starts empty for the next agent, and the page reloads its list.
    expect(renderer.find(Input, { name: 'new-agent-name' }).props.value).toBe('');
    await vi.waitFor(() => expect(calls(backend, '/settings')).toHaveLength(2));

    button(renderer, 'token-copied').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFind(Input, { name: 'created-agent-token' })).toBeNull());
    expect(allText(renderer.getRootNode())).not.toContain(TOKEN);
  });

  it('says why an agent was not created, and shows no token', async () => {
    const { renderer } = renderSettings('revops_admin', {
      'POST /agents': {
        status: 409,
        body: { error: { code: 'CONFLICT', message: 'An agent named "enricher" already exists in this workspace.' } },
      },
    });
    await ready(renderer);
    typeInto(renderer.find(Input, { name: 'new-agent-name' }), 'enricher');
    await renderer.waitFor(() => expect(button(renderer, 'create-agent').props.disabled).toBe(false));
    button(renderer, 'create-agent').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'danger',
      message: 'An agent named "enricher" already exists in this workspace.',
    });
    expect(renderer.maybeFind(Input, { name: 'created-agent-token' })).toBeNull();
  });

  it('pauses an active agent and resumes a paused one; a revoked agent offers nothing', async () => {
    const { renderer, backend } = renderSettings('owner', {
      [`POST /agents/${ENRICHER}/pause`]: { body: {} },
      [`POST /agents/${ROUTER}/resume`]: { body: {} },
    });
    await ready(renderer);
    expect(renderer.maybeFindByTestId(Button, `agent-resume-${ENRICHER}`)).toBeNull();
    expect(renderer.maybeFindByTestId(Button, `agent-pause-${ROUTER}`)).toBeNull();
    expect(renderer.maybeFindByTestId(Button, `agent-revoke-${OLD}`)).toBeNull();
    expect(allText(renderer.getRootNode())).toContain('Revoked for good');

    button(renderer, `agent-pause-${ENRICHER}`).trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(calls(backend, `/agents/${ENRICHER}/pause`)[0]?.init).toEqual({ method: 'POST' });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'success',
      message: 'enricher is paused: it cannot act until resumed.',
    });

    button(renderer, `agent-resume-${ROUTER}`).trigger('onClick');
    await vi.waitFor(() => expect(calls(backend, `/agents/${ROUTER}/resume`)).toHaveLength(1));
  });

  it('revokes only after the person confirms that it is final', async () => {
    const { renderer, backend } = renderSettings('owner', { [`POST /agents/${ENRICHER}/revoke`]: { body: {} } });
    await ready(renderer);
    button(renderer, `agent-revoke-${ENRICHER}`).trigger('onClick');
    await renderer.waitFor(() =>
      expect(renderer.maybeFindByTestId(Button, `agent-revoke-confirm-${ENRICHER}`)).not.toBeNull(),
    );
    expect(allText(renderer.getRootNode())).toContain('Revoking is final');
    expect(calls(backend, `/agents/${ENRICHER}/revoke`)).toHaveLength(0);

    button(renderer, `agent-revoke-keep-${ENRICHER}`).trigger('onClick');
    await renderer.waitFor(() =>
      expect(renderer.maybeFindByTestId(Button, `agent-revoke-confirm-${ENRICHER}`)).toBeNull(),
    );
    expect(calls(backend, `/agents/${ENRICHER}/revoke`)).toHaveLength(0);

    button(renderer, `agent-revoke-${ENRICHER}`).trigger('onClick');
    await renderer.waitFor(() =>
      expect(renderer.maybeFindByTestId(Button, `agent-revoke-confirm-${ENRICHER}`)).not.toBeNull(),
    );
    button(renderer, `agent-revoke-confirm-${ENRICHER}`).trigger('onClick');
    await vi.waitFor(() =>
      expect(calls(backend, `/agents/${ENRICHER}/revoke`)).toEqual([
        { path: `/agents/${ENRICHER}/revoke`, init: { method: 'POST' } },
      ]),
    );
  });

  it.each<[PersonRole]>([['approver'], ['auditor']])(
    'shows a %s the agents and history without controls',
    async (role) => {
      const { renderer } = renderSettings(role);
      await ready(renderer);
      const text = allText(renderer.getRootNode());
      expect(text).toContain('router');
      expect(text).toContain('paused');
      expect(text).toContain('admin:cli');
      expect(renderer.maybeFindByTestId(Button, 'create-agent')).toBeNull();
      expect(renderer.maybeFindByTestId(Button, `agent-pause-${ENRICHER}`)).toBeNull();
      expect(renderer.maybeFindByTestId(Button, `agent-revoke-${ENRICHER}`)).toBeNull();
      expect(renderer.maybeFindByTestId(Button, 'restore-2')).toBeNull();
    },
  );
});

describe('policy history on the settings page', () => {
  it('lists who published each version and when, and restores an earlier one as a new version', async () => {
    const { renderer, backend } = renderSettings('owner', {
      'POST /policies/2/restore': { status: 201, body: { version: 4 } },
    });
    await ready(renderer);
    const text = allText(renderer.getRootNode());
    expect(text).toContain('3 (in force)');
    expect(text).toContain('person:hubspot-user:1');
    expect(text).toContain(new Date('2026-11-22T09:00:00.000Z').toLocaleString());
    expect(renderer.maybeFindByTestId(Button, 'restore-3')).toBeNull();

    button(renderer, 'restore-2').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(calls(backend, '/policies/2/restore')[0]?.init).toEqual({ method: 'POST' });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'success',
      message: 'Version 2 is in force again, published as version 4.',
    });
    await vi.waitFor(() => expect(calls(backend, '/settings')).toHaveLength(2));
  });

  it('shows a restore that dual control holds as waiting for a second admin', async () => {
    const held = {
      error: {
        code: 'SECOND_ADMIN_REQUIRED',
        message: 'A second admin must confirm.',
        details: {
          requestId: 'req-9',
          reasons: [{ code: 'tier_lowered', message: 'contacts.phone goes from approval to auto for enrichment.' }],
        },
      },
    };
    const { renderer } = renderSettings('owner', { 'POST /policies/2/restore': { status: 409, body: held } });
    await ready(renderer);
    button(renderer, 'restore-2').trigger('onClick');
    await renderer.waitFor(() =>
      expect(renderer.maybeFind(Alert, { title: 'A second admin must confirm this change' })).not.toBeNull(),
    );
    const alert = allText(renderer.find(Alert, { title: 'A second admin must confirm this change' }));
    expect(alert).toContain('contacts.phone goes from approval to auto for enrichment.');
    expect(alert).toContain('req-9');
    expect(renderer.mocks.actions.addAlert.called).toBe(false);
  });

  it('waits for unpublished edits before restoring', async () => {
    const { renderer } = renderSettings('owner');
    await ready(renderer);
    expect(button(renderer, 'restore-2').props.disabled).toBe(false);
    typeInto(renderer.find(Select, { name: 'contacts.phone.enrichment' }), 'deny');
    await renderer.waitFor(() => expect(button(renderer, 'restore-2').props.disabled).toBe(true));
    expect(allText(renderer.getRootNode())).toContain('Publish your edits above first');
  });
});
