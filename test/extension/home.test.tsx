import { describe, expect, it } from 'vitest';
import { Alert, Button, Input, ProgressBar, Text } from '@hubspot/ui-extensions';
import { createRenderer } from '../support/ui-renderer.ts';
import { Home } from '../../extension/src/app/pages/Home.tsx';
import { allText, fakeBackend, typeInto } from './fake-backend.ts';
import { homeView } from './fixtures.ts';

function renderHome(routes: Parameters<typeof fakeBackend>[0]) {
  const renderer = createRenderer('home');
  const backend = fakeBackend(routes);
  renderer.render(<Home fetcher={backend.fetcher} />);
  return { renderer, backend };
}

const rollback = (done: number, status: 'running' | 'completed') => ({
  id: 'rb-1',
  status,
  statusReason: null,
  selector: { batchId: 'enrich-7' },
  force: false,
  total: 4,
  done,
  counts: { reverted: done, conflict: 0, alreadyReverted: 0, failed: 0 },
  changeSetIds: {},
  createdAt: '2026-11-23T10:00:00.000Z',
  completedAt: null,
});

describe('the app home page', () => {
  it('lists batches with how many approvals still wait', async () => {
    const { renderer } = renderHome({ 'GET /home': { body: homeView('approver') } });
    await renderer.waitFor(() => expect(allText(renderer.getRootNode())).toContain('enrich-7'));
    expect(allText(renderer.getRootNode())).toMatch(/enrich-7\s+enricher\s+2\s+3/);
  });

  it('dry-runs a batch rollback, shows what it would do, then runs it and shows progress to the end', async () => {
    let polls = 0;
    const { renderer, backend } = renderHome({
      'GET /home': { body: homeView('revops_admin') },
      'POST /rollbacks': (call) =>
        call.init?.body?.dryRun
          ? {
              body: {
                dryRun: true,
                selector: { batchId: 'enrich-7' },
                force: false,
                total: 5,
                counts: { revert: 4, conflict: 1, alreadyReverted: 0, failed: 0 },
                sample: [
                  {
                    objectType: 'contacts',
                    recordId: '9',
                    property: 'jobtitle',
                    before: 'VP',
                    restoreValue: 'Engineer',
                    outcome: 'conflict',
                    forced: false,
                    explanation: 'A person changed it since.',
                    conflict: null,
                  },
                ],
              },
            }
          : { status: 202, body: rollback(0, 'running') },
      'GET /rollbacks/rb-1': () =>
        ++polls < 2 ? { body: rollback(2, 'running') } : { body: rollback(4, 'completed') },
    });
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'rollback-enrich-7')).not.toBeNull());
    renderer.findByTestId(Button, 'rollback-enrich-7').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'dry-run')).not.toBeNull());
    renderer.findByTestId(Button, 'dry-run').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Text, 'plan-summary')).not.toBeNull());
    expect(renderer.findByTestId(Text, 'plan-summary').text).toBe(
      '4 to revert, 1 changed since by someone else (left alone), 0 already reverted.',
    );
    expect(allText(renderer.getRootNode())).toContain('A person changed it since.');
    expect(backend.calls.find((call) => call.path === '/rollbacks')?.init?.body).toEqual({
      selector: { batchId: 'enrich-7' },
      dryRun: true,
    });

    renderer.findByTestId(Button, 'run-rollback').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFind(ProgressBar)).not.toBeNull());
    await renderer.waitFor(() => expect(renderer.find(ProgressBar).props.value).toBe(4), { timeoutInMs: 5_000 });
    expect(renderer.find(Alert).text).toBe('Rollback done: 4 reverted.');
    expect(backend.calls.filter((call) => call.path === '/rollbacks').at(-1)?.init?.body).toEqual({
      selector: { batchId: 'enrich-7' },
    });
  });

  it('offers no rollback to an auditor, who can still search the audit trail', async () => {
    const { renderer, backend } = renderHome({
      'GET /home': { body: homeView('auditor') },
      'GET /audit': {
        body: {
          events: [
            {
              seq: 12,
              occurredAt: '2026-11-23T09:00:00.000Z',
              type: 'approval.decided',
              batchId: 'enrich-7',
              recordId: '101',
              property: null,
              actor: {},
              before: null,
              after: { phone: '+1' },
            },
          ],
        },
      },
    });
    await renderer.waitFor(() => expect(allText(renderer.getRootNode())).toContain('enrich-7'));
    expect(renderer.maybeFindByTestId(Button, 'rollback-enrich-7')).toBeNull();
    typeInto(renderer.find(Input, { name: 'audit-record' }), '101');
    await renderer.waitFor(() => expect(renderer.find(Input, { name: 'audit-record' }).props.value).toBe('101'));
    renderer.findByTestId(Button, 'audit-search').trigger('onClick');
    await renderer.waitFor(() => expect(allText(renderer.getRootNode())).toContain('approval.decided'));
    expect(backend.calls.at(-1)?.path).toBe('/audit?record=101&limit=50');
  });
});
