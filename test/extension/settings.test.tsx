import { describe, expect, it, vi } from 'vitest';
import { Alert, Button, Input, Select } from '@hubspot/ui-extensions';
import { createRenderer } from '../support/ui-renderer.ts';
import { Settings } from '../../extension/src/app/settings/Settings.tsx';
import type { PersonRole } from '../../server/src/domain/approval-lifecycle.ts';
import { allText, fakeBackend, typeInto } from './fake-backend.ts';
import { settingsView } from './fixtures.ts';

function renderSettings(routes: Parameters<typeof fakeBackend>[0]) {
  const renderer = createRenderer('settings');
  const backend = fakeBackend(routes);
  renderer.render(<Settings fetcher={backend.fetcher} />);
  return { renderer, backend };
}

const select = (renderer: ReturnType<typeof createRenderer>, name: string) => renderer.find(Select, { name });

describe('the settings page', () => {
  it('shows the matrix of property × agent role → tier, the agents and the policy history', async () => {
    const { renderer } = renderSettings({ 'GET /settings': { body: settingsView('revops_admin') } });
    await renderer.waitFor(() => expect(renderer.maybeFind(Select)).not.toBeNull());
    expect(select(renderer, 'contacts.jobtitle.enrichment').props.value).toBe('auto');
    expect(select(renderer, 'contacts.jobtitle.outreach').props.value).toBe('approval');
    expect(select(renderer, 'contacts.phone.outreach').props.value).toBe('deny');
    const text = allText(renderer.getRootNode());
    expect(text).toContain('Policy version 3');
    expect(text).toContain('enricher');
    expect(text).toContain('person:hubspot-user:1');
  });

  it('edits a cell and publishes the edited document as a new version', async () => {
    const { renderer, backend } = renderSettings({
      'GET /settings': { body: settingsView('owner') },
      'POST /policies': { status: 201, body: { version: 4 } },
    });
    await renderer.waitFor(() => expect(renderer.maybeFind(Select)).not.toBeNull());
    typeInto(select(renderer, 'contacts.phone.enrichment'), 'deny');
    await renderer.waitFor(() => expect(renderer.findByTestId(Button, 'publish').text).toBe('Publish 1 change'));
    renderer.findByTestId(Button, 'publish').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    const published = backend.calls.find((call) => call.path === '/policies');
    expect(published?.init?.method).toBe('POST');
    const document = published?.init?.body?.document as {
      objects: { contacts: { properties: Record<string, unknown> } };
    };
    expect(document.objects.contacts.properties.phone).toEqual({ enrichment: 'deny' });
    expect(document.objects.contacts.properties.jobtitle).toEqual({ enrichment: 'auto', '*': 'approval' });
    // The version the draft was edited from: one another admin published since is not silently replaced.
    expect(published?.init?.body?.basedOn).toBe(3);
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({ type: 'success' });
    // The reload renders the same tree, so no DOM change wakes the renderer's waitFor: poll the calls instead.
    await vi.waitFor(() => expect(backend.calls.filter((call) => call.path === '/settings')).toHaveLength(2));
  });

  it('shows, after publishing, the properties the server warns the portal does not have', async () => {
    const message =
      "contacts has no property jobtitel in the CRM: the policy's rules for it match nothing until the CRM has it (check the spelling against its internal name).";
    const { renderer } = renderSettings({
      'GET /settings': { body: settingsView('owner') },
      'POST /policies': {
        status: 201,
        body: {
          version: 4,
          warnings: [{ code: 'unknown_property', objectType: 'contacts', property: 'jobtitel', message }],
        },
      },
    });
    await renderer.waitFor(() => expect(renderer.maybeFind(Select)).not.toBeNull());
    typeInto(select(renderer, 'contacts.phone.enrichment'), 'deny');
    await renderer.waitFor(() => expect(renderer.findByTestId(Button, 'publish').text).toBe('Publish 1 change'));
    renderer.findByTestId(Button, 'publish').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFind(Alert, { variant: 'warning' })).not.toBeNull());
    const warning = renderer.find(Alert, { variant: 'warning' });
    expect(warning.props.title).toBe('Version 4 is in force, but names properties the portal does not have');
    expect(allText(warning)).toContain(message);
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({ type: 'success' });
  });

  it('publishes a draft as based on the version it was edited from, even after the page read a newer one', async () => {
    // Another admin publishes version 4 while this one edits; engaging a switch reloads the page meanwhile.
    let otherAdminPublished = false;
    const { renderer, backend } = renderSettings({
      'GET /settings': () => {
        const view = settingsView('owner');
        if (otherAdminPublished) view.policy = { version: 4, policy: view.policy!.policy };
        return { body: view };
      },
      'PUT /kill-switches': () => {
        otherAdminPublished = true;
        return { body: {} };
      },
      'POST /policies': (call) =>
        call.init?.body?.basedOn === 4
          ? { status: 201, body: { version: 5 } }
          : {
              status: 409,
              body: {
                error: {
                  code: 'CONFLICT',
                  message:
                    'Version 4 was published after version 3, which you edited; reload to see it, then make your change again.',
                  details: { reason: 'policy_changed', basedOn: 3, latest: 4 },
                },
              },
            },
    });
    await renderer.waitFor(() => expect(renderer.maybeFind(Select)).not.toBeNull());
    typeInto(select(renderer, 'contacts.phone.enrichment'), 'deny');
    await renderer.waitFor(() => expect(renderer.findByTestId(Button, 'publish').text).toBe('Publish 1 change'));
    typeInto(renderer.find(Input, { name: 'kill-switch-reason' }), 'Bad enrichment run');
    await renderer.waitFor(() =>
      expect(renderer.findByTestId(Button, 'kill-workspace-all').props.disabled).toBe(false),
    );
    renderer.findByTestId(Button, 'kill-workspace-all').trigger('onClick');
    await vi.waitFor(() => expect(allText(renderer.getRootNode())).toContain('Policy version 4'));

    renderer.findByTestId(Button, 'publish').trigger('onClick');
    await vi.waitFor(() =>
      expect(allText(renderer.getRootNode())).toContain('Version 4 was published after version 3, which you edited'),
    );
    expect(backend.calls.find((call) => call.path === '/policies')?.init?.body?.basedOn).toBe(3);
    // The draft is kept, not dropped: nothing the admin edited is lost.
    expect(select(renderer, 'contacts.phone.enrichment').props.value).toBe('deny');
  });

  it('engages the workspace kill switch only with a reason', async () => {
    const { renderer, backend } = renderSettings({
      'GET /settings': { body: settingsView('owner') },
      'PUT /kill-switches': { body: {} },
    });
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'kill-workspace-all')).not.toBeNull());
    expect(renderer.findByTestId(Button, 'kill-workspace-all').props.disabled).toBe(true);
    typeInto(renderer.find(Input, { name: 'kill-switch-reason' }), 'Bad enrichment run');
    await renderer.waitFor(() =>
      expect(renderer.findByTestId(Button, 'kill-workspace-all').props.disabled).toBe(false),
    );
    renderer.findByTestId(Button, 'kill-workspace-all').trigger('onClick');
    await renderer.waitFor(() => expect(backend.calls.some((call) => call.path === '/kill-switches')).toBe(true));
    expect(backend.calls.find((call) => call.path === '/kill-switches')?.init).toEqual({
      method: 'PUT',
      body: { scope: 'workspace', engaged: true, reason: 'Bad enrichment run' },
    });
  });

  it('a double click on Stop engages the kill switch once', async () => {
    const { renderer, backend } = renderSettings({
      'GET /settings': { body: settingsView('owner') },
      'PUT /kill-switches': { body: {} },
    });
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'kill-workspace-all')).not.toBeNull());
    typeInto(renderer.find(Input, { name: 'kill-switch-reason' }), 'Bad enrichment run');
    await renderer.waitFor(() =>
      expect(renderer.findByTestId(Button, 'kill-workspace-all').props.disabled).toBe(false),
    );
    const stop = renderer.findByTestId(Button, 'kill-workspace-all');
    stop.trigger('onClick');
    stop.trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    await vi.waitFor(() => expect(backend.calls.filter((call) => call.path === '/settings')).toHaveLength(2));
    expect(backend.calls.filter((call) => call.path === '/kill-switches')).toHaveLength(1);
    expect(renderer.mocks.actions.addAlert.calls.map((call) => call[0])).toEqual([
      { type: 'success', message: 'Kill switch engaged.' },
    ]);
  });

  it.each<[PersonRole]>([['approver'], ['auditor']])('shows a %s the policy and switches read-only', async (role) => {
    const { renderer } = renderSettings({
      'GET /settings': {
        body: settingsView(role, {
          killSwitches: [
            {
              scope: 'workspace',
              target: null,
              engaged: true,
              reason: 'x',
              changedBy: 'admin:cli',
              changedAt: '2026-11-23T09:00:00.000Z',
            },
          ],
        }),
      },
    });
    await renderer.waitFor(() => expect(allText(renderer.getRootNode())).toContain('Policy version 3'));
    // The one select left picks whose safety to read; it changes nothing.
    expect(renderer.findAll(Select).map((node) => node.props.name)).toEqual(['safety-agent']);
    expect(renderer.maybeFindByTestId(Button, 'publish')).toBeNull();
    expect(renderer.maybeFindByTestId(Button, 'kill-workspace-all')).toBeNull();
    expect(allText(renderer.getRootNode())).toContain('All agents: stopped');
    expect(allText(renderer.getRootNode())).toContain('approval (default)');
  });

  it('says a stored kill switch the server does not understand stops everything, naming its row', async () => {
    const notUnderstood =
      "The stored kill switch with scope 'wrkspace' and no target is not understood (its scope is not one this server knows), so while engaged it stops every agent and action in this workspace until its row is fixed or released.";
    const row = { target: null, reason: 'walk test', changedBy: 'psql', changedAt: '2026-11-23T09:00:00.000Z' };
    const { renderer } = renderSettings({
      'GET /settings': {
        body: settingsView('owner', {
          // Listed as stored: its scope is none of the known ones.
          killSwitches: [{ ...row, scope: 'wrkspace' as 'workspace', engaged: true, notUnderstood }],
        }),
      },
    });
    await renderer.waitFor(() => expect(renderer.maybeFind(Alert)).not.toBeNull());
    expect(renderer.find(Alert).props.title).toBe('A stored kill switch is not understood');
    expect(renderer.find(Alert).text).toContain(notUnderstood);
  });

  it('tells a rep plainly that settings are not theirs', async () => {
    const { renderer } = renderSettings({
      'GET /settings': {
        status: 403,
        body: { error: { code: 'FORBIDDEN', message: 'A rep cannot read the governance settings.' } },
      },
    });
    await renderer.waitFor(() => expect(renderer.maybeFind(Alert)).not.toBeNull());
    expect(renderer.find(Alert).text).toContain('A rep cannot read the governance settings.');
  });

  it('pages through a matrix of hundreds of properties', async () => {
    const view = settingsView('owner');
    const properties = Object.fromEntries(
      Array.from({ length: 45 }, (_, i) => [`prop_${String(i).padStart(2, '0')}`, { enrichment: 'auto' as const }]),
    );
    view.policy = { version: 3, policy: { ...view.policy!.policy, objects: { contacts: { properties } } } };
    const { renderer } = renderSettings({ 'GET /settings': { body: view } });
    await renderer.waitFor(() => expect(renderer.maybeFind(Select)).not.toBeNull());
    expect(renderer.findAll(Select).filter((node) => String(node.props.name).startsWith('contacts.')).length).toBe(
      20 * 5,
    );
    expect(allText(renderer.getRootNode())).toContain('1–20 of 45');
  });
});
