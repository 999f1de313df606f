import { describe, expect, it, vi } from 'vitest';
import { Button, Input } from '@hubspot/ui-extensions';
import { createRenderer } from '../support/ui-renderer.ts';
import { Settings } from '../../extension/src/app/settings/Settings.tsx';
import type { PersonRole } from '../../server/src/domain/approval-lifecycle.ts';
import type { RetentionView } from '../../shared/retention-api.ts';
import { allText, fakeBackend, typeInto } from './fake-backend.ts';
import { settingsView } from './fixtures.ts';

/** Retention on the settings page (issues 19, 21): the periods the backend holds, changed by those who publish the policy. */

const RETENTION: RetentionView = {
  periods: { changeRecordsDays: 90, draftsDays: null, webhookPayloadsDays: 30, auditPersonalDataDays: 365 },
  nextRunAt: '2026-11-24T03:00:00.000Z',
  running: null,
};

function renderSettings(role: PersonRole, routes: Parameters<typeof fakeBackend>[0] = {}) {
  const renderer = createRenderer('settings');
  const backend = fakeBackend({
    'GET /settings': { body: settingsView(role) },
    'GET /teams': { body: { teams: [] } },
    'GET /retention': { body: RETENTION },
    ...routes,
  });
  renderer.render(<Settings fetcher={backend.fetcher} />);
  return { renderer, backend };
}

type Renderer = ReturnType<typeof createRenderer>;
const ready = (renderer: Renderer) =>
  renderer.waitFor(() => expect(allText(renderer.getRootNode())).toContain('Personal values in the audit log'));
const field = (renderer: Renderer, name: string) => renderer.find(Input, { name: `retention.${name}` });

describe('retention on the settings page', () => {
  it('shows each period the backend holds and when the job runs next', async () => {
    const { renderer } = renderSettings('owner');
    await ready(renderer);
    expect(field(renderer, 'changeRecordsDays').props.value).toBe('90');
    expect(field(renderer, 'draftsDays').props.value).toBe('');
    expect(field(renderer, 'auditPersonalDataDays').props.value).toBe('365');
    expect(allText(renderer.getRootNode())).toContain(
      `Next run: ${new Date('2026-11-24T03:00:00.000Z').toLocaleString()}.`,
    );
  });

  it('saves the periods as typed, blank kept for ever', async () => {
    const saved: RetentionView = { ...RETENTION, periods: { ...RETENTION.periods, changeRecordsDays: 30 } };
    const { renderer, backend } = renderSettings('revops_admin', { 'PUT /retention': { body: saved } });
    await ready(renderer);
    typeInto(field(renderer, 'changeRecordsDays'), '30');
    typeInto(field(renderer, 'webhookPayloadsDays'), ' ');
    renderer.findByTestId(Button, 'save-retention').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(backend.calls.find((call) => call.path === '/retention' && call.init?.method === 'PUT')?.init).toEqual({
      method: 'PUT',
      body: { changeRecordsDays: 30, draftsDays: null, webhookPayloadsDays: null, auditPersonalDataDays: 365 },
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'success',
      message: 'Saved: the retention job applies it from its next run.',
    });
    await vi.waitFor(() => expect(backend.calls.filter((call) => call.path === '/retention')).toHaveLength(3));
  });

  it('shows the backend’s sentence when it refuses the periods, and says so itself for text that is no number', async () => {
    const refusal = 'The retention periods: draftsDays must be at least 1.';
    const { renderer } = renderSettings('owner', {
      'PUT /retention': { status: 400, body: { error: { code: 'VALIDATION_FAILED', message: refusal } } },
    });
    await ready(renderer);
    typeInto(field(renderer, 'draftsDays'), 'soon');
    await renderer.waitFor(() => expect(renderer.findByTestId(Button, 'save-retention').props.disabled).toBe(true));
    expect(allText(renderer.getRootNode())).toContain('Settled drafts: write a number of days');
    typeInto(field(renderer, 'draftsDays'), '0');
    await renderer.waitFor(() => expect(renderer.findByTestId(Button, 'save-retention').props.disabled).toBe(false));
    renderer.findByTestId(Button, 'save-retention').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({ type: 'danger', message: refusal });
  });

  it.each<[PersonRole]>([['approver'], ['auditor']])(
    'shows a %s the periods without a way to change them',
    async (role) => {
      const { renderer } = renderSettings(role);
      await ready(renderer);
      const text = allText(renderer.getRootNode());
      expect(text).toContain('Settled drafts (days)');
      expect(text).toContain('for ever');
      expect(text).toContain('365');
      expect(renderer.maybeFind(Input, { name: 'retention.changeRecordsDays' })).toBeNull();
      expect(renderer.maybeFindByTestId(Button, 'save-retention')).toBeNull();
    },
  );
});
