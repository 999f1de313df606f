import { describe, expect, it } from 'vitest';
import { Alert, Button, Input, MultiSelect, Select, TextArea } from '@hubspot/ui-extensions';
import { createRenderer } from '../support/ui-renderer.ts';
import { Settings } from '../../extension/src/app/settings/Settings.tsx';
import type { PersonRole } from '../../server/src/domain/approval-lifecycle.ts';
import type { SettingsView } from '../../shared/extension-api.ts';
import type { Policy } from '../../shared/policy.ts';
import { allText, fakeBackend, typeInto } from './fake-backend.ts';
import { POLICY, settingsView } from './fixtures.ts';

/**
 * The settings page's content rules, record creation and governed reads (issues 19, 21): shown as
 * the backend holds them, edited in the draft, published as a new version, the backend's
 * sentences shown when it refuses.
 */

const DRAFTS: Policy = {
  ...POLICY,
  content: [{ name: 'No guarantees', kind: 'banned', phrases: ['guarantee'], raiseTo: 'approval' }],
  objects: {
    contacts: {
      ...POLICY.objects.contacts!,
      create: { prospecting: 'approval' },
      onDuplicate: 'approval',
      read: { email: { enrichment: 'full', '*': 'masked' } },
    },
    deals: POLICY.objects.deals!,
  },
};

function view(role: PersonRole): SettingsView {
  return { ...settingsView(role), policy: { version: 3, policy: DRAFTS } };
}

function renderSettings(role: PersonRole, routes: Parameters<typeof fakeBackend>[0] = {}) {
  const renderer = createRenderer('settings');
  const backend = fakeBackend({
    'GET /settings': { body: view(role) },
    'GET /teams': { body: { teams: [] } },
    ...routes,
  });
  renderer.render(<Settings fetcher={backend.fetcher} />);
  return { renderer, backend };
}

/** A MultiSelect answers with a list; the SDK's `trigger` is typed for strings only. */
function pick(node: { trigger: (...args: never[]) => void }, values: string[]): void {
  (node.trigger as (event: 'onChange', argument: string[]) => void)('onChange', values);
}

type Renderer = ReturnType<typeof createRenderer>;
const ready = (renderer: Renderer) =>
  renderer.waitFor(() => expect(allText(renderer.getRootNode())).toContain('Content rules for drafts'));
const select = (renderer: Renderer, name: string) => renderer.find(Select, { name });
const published = (backend: ReturnType<typeof fakeBackend>) =>
  backend.calls.find((call) => call.path === '/policies')?.init?.body?.document as Policy | undefined;
const publishReads = (renderer: Renderer, text: string) =>
  renderer.waitFor(() => expect(renderer.findByTestId(Button, 'publish').text).toBe(text));

describe('content rules on the settings page', () => {
  it('adds a rule, fills it in and publishes it with the rest of the policy', async () => {
    const { renderer, backend } = renderSettings('owner', { 'POST /policies': { status: 201, body: { version: 4 } } });
    await ready(renderer);
    expect(allText(renderer.getRootNode())).toContain(
      'No guarantees: every draft that contains "guarantee" → approval',
    );
    renderer.findByTestId(Button, 'add-content-rule').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFind(Input, { name: 'content.1.name' })).not.toBeNull());
    typeInto(renderer.find(Input, { name: 'content.1.name' }), 'Unsubscribe line');
    typeInto(select(renderer, 'content.1.kind'), 'required');
    typeInto(renderer.find(TextArea, { name: 'content.1.phrases' }), 'unsubscribe\n');
    typeInto(renderer.find(TextArea, { name: 'content.1.patterns' }), 'opt[- ]out\n\n');
    typeInto(select(renderer, 'content.1.raiseTo'), 'deny');
    pick(renderer.find(MultiSelect, { name: 'content.1.actions' }), ['send_email']);
    await publishReads(renderer, 'Publish 1 change');
    // The text stays as typed (a line not yet written), the rule holds the lines given.
    expect(renderer.find(TextArea, { name: 'content.1.phrases' }).props.value).toBe('unsubscribe\n');
    renderer.findByTestId(Button, 'publish').trigger('onClick');
    await renderer.waitFor(() => expect(published(backend)).toBeDefined());
    expect(published(backend)?.content).toEqual([
      DRAFTS.content![0],
      {
        name: 'Unsubscribe line',
        kind: 'required',
        phrases: ['unsubscribe'],
        patterns: ['opt[- ]out'],
        raiseTo: 'deny',
        actions: ['send_email'],
      },
    ]);
  });

  it('removes the last rule, leaving the setting out, and shows the backend’s sentences when it refuses', async () => {
    const issue = 'content[0] checks nothing: give the allowedFields a draft may merge';
    const { renderer, backend } = renderSettings('revops_admin', {
      'POST /policies': {
        status: 400,
        body: {
          error: { code: 'POLICY_INVALID', message: `The policy is not valid: ${issue}`, details: { issues: [issue] } },
        },
      },
    });
    await ready(renderer);
    typeInto(select(renderer, 'content.0.kind'), 'personalisation');
    await publishReads(renderer, 'Publish 1 change');
    renderer.findByTestId(Button, 'publish').trigger('onClick');
    await renderer.waitFor(() =>
      expect(renderer.maybeFind(Alert, { title: 'The policy was not published: fix these first' })).not.toBeNull(),
    );
    expect(allText(renderer.find(Alert, { title: 'The policy was not published: fix these first' }))).toContain(issue);

    renderer.findByTestId(Button, 'remove-content-rule-0').trigger('onClick');
    await renderer.waitFor(() =>
      expect(allText(renderer.getRootNode())).toContain("No content rule: a draft's action tier alone decides."),
    );
    renderer.findByTestId(Button, 'publish').trigger('onClick');
    await renderer.waitFor(() => expect(backend.calls.filter((call) => call.path === '/policies')).toHaveLength(2));
    expect(backend.calls.at(-1)?.init?.body?.document).not.toHaveProperty('content');
  });
});

describe('record creation and governed reads on the settings page', () => {
  it('shows each object’s creation tiers, what a duplicate does and its reads, and publishes edits to them', async () => {
    const { renderer, backend } = renderSettings('owner', { 'POST /policies': { status: 201, body: { version: 4 } } });
    await ready(renderer);
    expect(select(renderer, 'create.contacts.prospecting').props.value).toBe('approval');
    expect(select(renderer, 'create.contacts.outreach').props.value).toBe('none');
    expect(select(renderer, 'duplicate.contacts').props.value).toBe('approval');
    expect(select(renderer, 'duplicate.deals').props.value).toBe('deny');
    expect(select(renderer, 'read.contacts.email.enrichment').props.value).toBe('full');
    expect(select(renderer, 'read.contacts.email.*').props.value).toBe('masked');

    typeInto(select(renderer, 'create.deals.outreach'), 'two_person');
    typeInto(select(renderer, 'create.contacts.prospecting'), 'none');
    typeInto(select(renderer, 'duplicate.contacts'), 'deny');
    typeInto(renderer.find(Input, { name: 'read.contacts.new' }), ' phone ');
    await renderer.waitFor(() => expect(renderer.findByTestId(Button, 'add-read-contacts').props.disabled).toBe(false));
    renderer.findByTestId(Button, 'add-read-contacts').trigger('onClick');
    await renderer.waitFor(() =>
      expect(renderer.maybeFind(Select, { name: 'read.contacts.phone.routing' })).not.toBeNull(),
    );
    typeInto(select(renderer, 'read.contacts.phone.routing'), 'masked');
    typeInto(select(renderer, 'read.contacts.email.*'), 'none');
    await publishReads(renderer, 'Publish 5 changes');
    renderer.findByTestId(Button, 'publish').trigger('onClick');
    await renderer.waitFor(() => expect(published(backend)).toBeDefined());
    const objects = published(backend)!.objects;
    expect(objects.contacts).toEqual({
      properties: DRAFTS.objects.contacts!.properties,
      read: { email: { enrichment: 'full' }, phone: { routing: 'masked' } },
    });
    expect(objects.deals).toEqual({ ...DRAFTS.objects.deals, create: { outreach: 'two_person' } });
  });

  it('refuses to list a read property twice', async () => {
    const { renderer } = renderSettings('owner');
    await ready(renderer);
    typeInto(renderer.find(Input, { name: 'read.contacts.new' }), 'email');
    await renderer.waitFor(() =>
      expect(renderer.find(Input, { name: 'read.contacts.new' }).props.validationMessage).toBe(
        'email is already listed.',
      ),
    );
    expect(renderer.findByTestId(Button, 'add-read-contacts').props.disabled).toBe(true);
  });

  it.each<[PersonRole]>([['approver'], ['auditor']])(
    'shows a %s the rules, creation and reads read-only',
    async (role) => {
      const { renderer } = renderSettings(role);
      await ready(renderer);
      const text = allText(renderer.getRootNode());
      expect(text).toContain('No guarantees: every draft that contains "guarantee" → approval');
      expect(text).toContain('A likely duplicate of an existing contact is held for a person.');
      expect(text).toContain('A likely duplicate of an existing deal is refused (the default).');
      expect(text).toContain('may not create');
      expect(text).toContain('masked');
      expect(renderer.maybeFind(Input, { name: 'content.0.name' })).toBeNull();
      expect(renderer.maybeFind(Select, { name: 'create.contacts.prospecting' })).toBeNull();
      expect(renderer.maybeFindByTestId(Button, 'add-content-rule')).toBeNull();
      expect(renderer.maybeFindByTestId(Button, 'add-read-contacts')).toBeNull();
    },
  );
});
