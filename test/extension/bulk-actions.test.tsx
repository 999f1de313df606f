import { describe, expect, it, vi } from 'vitest';
import { Alert, Button, Text, TextArea } from '@hubspot/ui-extensions';
import { createRenderer } from '../support/ui-renderer.ts';
import { BulkDecisions } from '../../extension/src/app/actions/BulkDecisions.tsx';
import type { BatchDecisionResult } from '../../shared/approval-api.ts';
import type { BulkPreview } from '../../shared/extension-decisions-api.ts';
import type { PersonRole } from '../../server/src/domain/approval-lifecycle.ts';
import { allText, fakeBackend, typeInto } from './fake-backend.ts';
import { permissions } from './fixtures.ts';

function renderBulk(
  routes: Parameters<typeof fakeBackend>[0],
  selection: { objectTypeId?: string; objectIds?: number[] } = {},
) {
  const renderer = createRenderer('crm.bulkActions');
  renderer.mocks.context.crm.objectTypeId = selection.objectTypeId ?? '0-1';
  renderer.mocks.context.crm.objectIds = selection.objectIds ?? [101, 102, 103];
  const backend = fakeBackend(routes);
  renderer.render(<BulkDecisions fetcher={backend.fetcher} />);
  return { renderer, backend };
}

function preview(overrides: Partial<BulkPreview> & { role?: PersonRole } = {}): BulkPreview {
  const { role, ...rest } = overrides;
  return {
    caller: { portalId: '42', userId: '1', ownerId: '1', permissions: permissions(role ?? 'approver') },
    objectType: 'contacts',
    selectedRecords: 3,
    recordsWithPending: 2,
    pending: 4,
    drafts: 0,
    overLimit: false,
    decidable: 4,
    killSwitches: [],
    ...rest,
  };
}

function result(
  decided: string[],
  refused: { id: string; code: string }[] = [],
  status: 'applied' | 'rejected' = 'applied',
): BatchDecisionResult {
  return {
    batchDecisionId: 'bd-1',
    results: [
      ...decided.map((approvalId) => ({ approvalId, kind: 'field_change' as const, status })),
      ...refused.map(({ id, code }) => ({
        approvalId: id,
        kind: 'field_change' as const,
        status: 'pending' as const,
        refusal: { code, message: `refused: ${code}` },
      })),
    ],
    summary: { decided: decided.length, refused: refused.length, applied: status === 'applied' ? decided.length : 0 },
  };
}

const loaded = (renderer: ReturnType<typeof createRenderer>) =>
  renderer.waitFor(() => expect(allText(renderer.getRootNode())).toContain('Agent proposals on the selection'));
const selection = { objectType: 'contacts', recordIds: ['101', '102', '103'] };

describe('the bulk action on an index page', () => {
  it('asks the backend what waits on the selected records and says it plainly', async () => {
    const { renderer, backend } = renderBulk({ 'POST /bulk/preview': { body: preview() } });
    await loaded(renderer);
    expect(backend.calls[0]).toEqual({ path: '/bulk/preview', init: { method: 'POST', body: selection } });
    expect(renderer.findByTestId(Text, 'bulk-summary').text).toBe('4 proposals wait on 2 of the 3 selected contacts.');
  });

  it('says how many of the proposals are drafts', async () => {
    const { renderer } = renderBulk({ 'POST /bulk/preview': { body: preview({ drafts: 1 }) } });
    await loaded(renderer);
    expect(renderer.findByTestId(Text, 'bulk-summary').text).toBe(
      '4 proposals wait on 2 of the 3 selected contacts. Of these, 1 is a draft (emails, tasks or notes).',
    );
  });

  it('approves everything pending on the selection in one call, reports what was written, and reloads', async () => {
    const { renderer, backend } = renderBulk({
      'POST /bulk/preview': { body: preview() },
      'POST /bulk/decisions': { body: result(['a1', 'a2', 'a3', 'a4']) },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'bulk-approve').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(backend.calls.find((call) => call.path === '/bulk/decisions')?.init).toEqual({
      method: 'POST',
      body: { kind: 'approve', selection },
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toEqual({
      type: 'success',
      message: '4 proposals approved, 4 written to the CRM.',
    });
    // Polled: the reload's answer renders the same tree again, which the renderer's own waitFor would not notice.
    await vi.waitFor(() => expect(backend.calls.filter((call) => call.path === '/bulk/preview')).toHaveLength(2));
  });

  it('sends back what the person was shown, and on a refusal as changed since shows what waits now', async () => {
    let looks = 0;
    const { renderer, backend } = renderBulk({
      'POST /bulk/preview': () => {
        looks += 1;
        return {
          body:
            looks === 1 ? preview({ seen: 'first-look' }) : preview({ pending: 5, decidable: 5, seen: 'second-look' }),
        };
      },
      'POST /bulk/decisions': {
        status: 409,
        body: {
          error: {
            code: 'CONFLICT',
            message:
              'What waits on the selected contacts changed since you looked (5 proposals now); look again before deciding.',
            details: { reason: 'pending_changed', pending: 5 },
          },
        },
      },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'bulk-approve').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(backend.calls.find((call) => call.path === '/bulk/decisions')?.init?.body).toEqual({
      kind: 'approve',
      selection,
      seen: 'first-look',
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'danger',
      message: expect.stringContaining('changed since you looked'),
    });
    await renderer.waitFor(() => expect(renderer.findByTestId(Button, 'bulk-approve').text).toBe('Approve 5'));
  });

  it('rejects them all only with a reason, and sends it', async () => {
    const { renderer, backend } = renderBulk({
      'POST /bulk/preview': { body: preview() },
      'POST /bulk/decisions': { body: result(['a1', 'a2', 'a3', 'a4'], [], 'rejected') },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'bulk-reject').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFind(TextArea)).not.toBeNull());
    expect(renderer.findByTestId(Button, 'bulk-confirm-reject').props.disabled).toBe(true);
    typeInto(renderer.find(TextArea), 'Bad enrichment source');
    await renderer.waitFor(() =>
      expect(renderer.findByTestId(Button, 'bulk-confirm-reject').props.disabled).toBe(false),
    );
    renderer.findByTestId(Button, 'bulk-confirm-reject').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(backend.calls.find((call) => call.path === '/bulk/decisions')?.init?.body).toEqual({
      kind: 'reject',
      selection,
      reason: 'Bad enrichment source',
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toEqual({
      type: 'success',
      message: '4 proposals rejected.',
    });
  });

  it('tells a rep which proposals are theirs beforehand, and which were refused afterwards', async () => {
    const { renderer } = renderBulk({
      'POST /bulk/preview': { body: preview({ role: 'rep', decidable: 1 }) },
      'POST /bulk/decisions': {
        body: result(
          ['a1'],
          [
            { id: 'a2', code: 'not_record_owner' },
            { id: 'a3', code: 'not_record_owner' },
            { id: 'a4', code: 'not_record_owner' },
          ],
        ),
      },
    });
    await loaded(renderer);
    expect(renderer.findByTestId(Text, 'bulk-summary').text).toBe(
      '4 proposals wait on 2 of the 3 selected contacts. You may decide 1; the other 3 stay pending for their record owners or an approver.',
    );
    expect(renderer.findByTestId(Button, 'bulk-approve').text).toBe('Approve 1');
    renderer.findByTestId(Button, 'bulk-approve').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toEqual({
      type: 'warning',
      message: '1 proposal approved, 1 written to the CRM; 3 not decided (3 on records you do not own).',
    });
  });

  it.each([
    ['an auditor', preview({ role: 'auditor' }), 'Your role can read proposals but not decide them.'],
    [
      'a rep who owns none of the records',
      preview({ role: 'rep', decidable: 0 }),
      'None of these proposals are yours to decide: a rep decides only on records they own.',
    ],
    [
      'more proposals than one decision takes',
      preview({ pending: 1_000, overLimit: true }),
      'More than 1,000 proposals wait: select fewer records and decide them in parts.',
    ],
  ])('offers no decision to %s, and says why', async (_who, body, sentence) => {
    const { renderer } = renderBulk({ 'POST /bulk/preview': { body } });
    await loaded(renderer);
    expect(renderer.maybeFindByTestId(Button, 'bulk-approve')).toBeNull();
    expect(renderer.maybeFindByTestId(Button, 'bulk-reject')).toBeNull();
    expect(allText(renderer.getRootNode())).toContain(sentence);
  });

  it('says plainly when a kill switch is engaged, and offers reject but not approve', async () => {
    const { renderer } = renderBulk({
      'POST /bulk/preview': {
        body: preview({
          killSwitches: [
            { scope: 'workspace', target: null, reason: 'Bad batch', changedAt: '2026-11-23T10:00:00.000Z' },
          ],
        }),
      },
    });
    await loaded(renderer);
    expect(renderer.find(Alert).text).toContain('All agents are stopped: Bad batch');
    expect(renderer.maybeFindByTestId(Button, 'bulk-approve')).toBeNull();
    expect(renderer.maybeFindByTestId(Button, 'bulk-reject')).not.toBeNull();
  });

  it('shows an empty state when nothing waits, a forbidden notice, and an error with retry', async () => {
    const empty = renderBulk(
      { 'POST /bulk/preview': { body: preview({ pending: 0, recordsWithPending: 0, decidable: 0 }) } },
      { objectTypeId: '0-3', objectIds: [7] },
    );
    await loaded(empty.renderer);
    expect(empty.backend.calls[0]?.init?.body).toEqual({ objectType: 'deals', recordIds: ['7'] });
    expect(allText(empty.renderer.getRootNode())).toContain('No agent proposal waits on the 3 selected contacts.');

    const forbidden = renderBulk({
      'POST /bulk/preview': {
        status: 403,
        body: { error: { code: 'FORBIDDEN', message: 'HubSpot user 1 has no role in Agent Governance.' } },
      },
    });
    await forbidden.renderer.waitFor(() => expect(forbidden.renderer.maybeFind(Alert)).not.toBeNull());
    expect(forbidden.renderer.find(Alert).text).toContain('has no role');

    let attempts = 0;
    const failing = renderBulk({
      'POST /bulk/preview': () =>
        ++attempts === 1
          ? { status: 503, body: { error: { code: 'DATABASE_LOCKED', message: 'Busy.' } } }
          : { body: preview() },
    });
    await failing.renderer.waitFor(() => expect(allText(failing.renderer.getRootNode())).toContain('Busy.'));
    failing.renderer.find(Button).trigger('onClick');
    await loaded(failing.renderer);
  });

  it('says so on an object Agent Governance does not govern, and asks nothing', async () => {
    const { renderer, backend } = renderBulk({}, { objectTypeId: '0-2' });
    await renderer.waitFor(() => expect(allText(renderer.getRootNode())).toContain('contacts and deals only'));
    expect(backend.calls).toEqual([]);
  });
});
