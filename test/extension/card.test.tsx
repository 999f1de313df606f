import { describe, expect, it } from 'vitest';
import { Alert, Button, Heading, Input, Link, Text, TextArea } from '@hubspot/ui-extensions';
import { createRenderer } from '../support/ui-renderer.ts';
import { GovernanceCard } from '../../extension/src/app/cards/GovernanceCard.tsx';
import { allText, fakeBackend, typeInto } from './fake-backend.ts';
import type { PendingDraft } from '../../shared/extension-api.ts';
import { approval, cardView, heldLink, pendingCard } from './fixtures.ts';

function renderCard(routes: Parameters<typeof fakeBackend>[0]) {
  const renderer = createRenderer('crm.record.sidebar');
  renderer.mocks.context.crm.objectId = 123;
  renderer.mocks.context.crm.objectTypeId = '0-1';
  const backend = fakeBackend(routes);
  renderer.render(<GovernanceCard fetcher={backend.fetcher} />);
  return { renderer, backend };
}

const loaded = (renderer: ReturnType<typeof createRenderer>) =>
  renderer.waitFor(() => expect(renderer.maybeFind(Heading)).not.toBeNull());

describe('the record card', () => {
  it('lists why no agent may email the contact, with the email and agent that reported each stop', async () => {
    const emailStops = [
      {
        reason: 'contact_unsubscribed' as const,
        at: '2026-11-22T10:00:00.000Z',
        actionId: '0190aaaa-0000-7000-8000-000000000007',
        agent: { id: 'agent-2', name: 'outreach-bot' },
      },
      { reason: 'contact_hard_bounced' as const, at: '2026-11-21T10:00:00.000Z', actionId: 'a-8', agent: null },
    ];
    const { renderer } = renderCard({ 'GET /card': { body: cardView([], { emailStops }) } });
    await loaded(renderer);
    await renderer.waitFor(() =>
      expect(renderer.maybeFindByTestId(Text, 'email-stop-contact_unsubscribed')).not.toBeNull(),
    );
    expect(allText(renderer.getRootNode())).toContain('No agent may email this contact');
    expect(renderer.findByTestId(Text, 'email-stop-contact_unsubscribed').text).toBe(
      `they unsubscribed: reported on ${new Date('2026-11-22T10:00:00.000Z').toLocaleString()} by outreach-bot's email 0190aaaa-0000-7000-8000-000000000007`,
    );
    expect(renderer.findByTestId(Text, 'email-stop-contact_hard_bounced').text).toBe(
      `their email bounced hard: reported on ${new Date('2026-11-21T10:00:00.000Z').toLocaleString()} by email a-8`,
    );
  });

  it('shows per field who set it and why: agent, source, confidence, reason, policy version, approver, change', async () => {
    const fieldProvenance = [
      {
        property: 'phone',
        value: '+1 555 0199',
        changeId: 'c7',
        changeSetId: 'cs-7',
        batchId: 'enrich-7',
        agent: { id: 'agent-1', name: 'enricher' },
        at: '2026-11-22T10:00:00.000Z',
        evidence: { source: 'clearbit', confidence: 0.92, reason: 'New number on the site' },
        policyVersion: 3,
        approvedBy: ['501'],
      },
    ];
    const { renderer } = renderCard({ 'GET /card': { body: cardView([], { fieldProvenance }) } });
    await loaded(renderer);
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Text, 'provenance-phone-why')).not.toBeNull());
    expect(renderer.findByTestId(Text, 'provenance-phone').text).toBe('phone: +1 555 0199');
    expect(renderer.findByTestId(Text, 'provenance-phone-why').text).toBe(
      'enricher · clearbit, 92% confident · New number on the site · policy v3 · approved by 501 · change c7',
    );
  });

  it('shows which content rule held a draft and the text it matched', async () => {
    const heldBecause = 'Content rule "No pricing claims": banned text "20% off" in body.';
    const { renderer } = renderCard({
      'GET /card': { body: cardView([], { drafts: [emailDraft('d1', { heldBecause })] }) },
    });
    await loaded(renderer);
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Text, 'draft-d1-held-because')).not.toBeNull());
    expect(renderer.findByTestId(Text, 'draft-d1-held-because').text).toBe(heldBecause);
  });

  it('shows a link an agent wants to make from this record, who asks and why, and approves it through the backend', async () => {
    const { renderer, backend } = renderCard({
      'GET /card': {
        body: cardView([], { heldEntries: [heldLink('l1', { tier: 'two_person', approvedBy: ['501'] })] }),
      },
      'POST /associations/l1/decisions': { body: { changeId: 'l1', operation: 'associate', decision: 'applied' } },
    });
    await loaded(renderer);
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Text, 'held-l1')).not.toBeNull());
    expect(renderer.findByTestId(Text, 'held-l1').text).toBe('Link contact 123 with company 987');
    expect(renderer.findByTestId(Text, 'held-l1-why').text).toBe(
      'prospector · apollo, 90% confident · Works there, per the team page · two people must approve (approved by 501) · expires 2026-11-26 10:00 UTC',
    );
    expect(allText(renderer.getRootNode())).toContain('Links and records waiting for a person (1)');
    renderer.findByTestId(Button, 'held-approve-l1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.calls.length).toBe(1));
    expect(backend.calls.find((call) => call.init?.method === 'POST')).toEqual({
      path: '/associations/l1/decisions',
      init: { method: 'POST', body: { kind: 'approve' } },
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'success',
      message: 'Link approved and linked.',
    });
    await renderer.waitFor(() => expect(backend.calls.filter((call) => call.path.startsWith('/card'))).toHaveLength(2));
  });

  it('rejects a held link only with a reason, and offers a rep no decision on it', async () => {
    const { renderer, backend } = renderCard({
      'GET /card': {
        body: cardView([], {
          heldEntries: [heldLink('l1'), heldLink('l2', { decidable: { ok: false, code: 'not_record_owner' } })],
        }),
      },
      'POST /associations/l1/decisions': { body: { changeId: 'l1', operation: 'associate', decision: 'denied' } },
    });
    await loaded(renderer);
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'held-reject-l1')).not.toBeNull());
    expect(renderer.maybeFindByTestId(Button, 'held-approve-l2')).toBeNull();
    expect(renderer.maybeFindByTestId(Button, 'held-reject-l2')).toBeNull();
    expect(allText(renderer.getRootNode())).toContain(
      'Only the record owner, an approver or an admin can decide this proposal.',
    );
    renderer.findByTestId(Button, 'held-reject-l1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFind(TextArea)).not.toBeNull());
    expect(renderer.findByTestId(Button, 'held-confirm-reject-l1').props.disabled).toBe(true);
    typeInto(renderer.find(TextArea), 'Ada left Acme');
    await renderer.waitFor(() =>
      expect(renderer.findByTestId(Button, 'held-confirm-reject-l1').props.disabled).toBe(false),
    );
    renderer.findByTestId(Button, 'held-confirm-reject-l1').trigger('onClick');
    await renderer.waitFor(() => expect(backend.calls.some((call) => call.init?.method === 'POST')).toBe(true));
    expect(backend.calls.find((call) => call.init?.method === 'POST')?.init?.body).toEqual({
      kind: 'reject',
      reason: 'Ada left Acme',
    });
  });

  it('says which agent created the record, in which batch and why', async () => {
    const createdBy = {
      changeId: 'c0',
      changeSetId: 'cs-1',
      batchId: 'prospect-1',
      agent: { id: 'agent-2', name: 'prospector' },
      at: '2026-11-22T09:00:00.000Z',
      evidence: { source: 'apollo', reason: 'On the team page' },
      policyVersion: 3,
    };
    const { renderer } = renderCard({ 'GET /card': { body: cardView([], { createdBy }) } });
    await loaded(renderer);
    const text = renderer.findByTestId(Text, 'created-by').text;
    expect(text).toContain('Created by prospector · batch prospect-1');
    expect(text).toContain('policy v3: On the team page (apollo)');
  });

  it('asks the backend for this record and shows each proposal as current → proposed with its agent and evidence', async () => {
    const { renderer, backend } = renderCard({ 'GET /card': { body: cardView([pendingCard('a1')]) } });
    await loaded(renderer);
    expect(backend.calls[0]!.path).toBe('/card?objectType=contacts&recordId=123&page=1&pageSize=5');
    expect(renderer.find(Heading).text).toBe('Waiting for a person (1)');
    expect(renderer.findByTestId(Text, 'diff-a1-phone').text).toBe('phone: +1 555 0100 → +1 555 0199');
    expect(renderer.find(Link).props.href).toBe('https://example.com/p/1');
    expect(allText(renderer.getRootNode())).toContain('92% confident');
    expect(allText(renderer.getRootNode())).toContain('Company site lists a new number');
    expect(allText(renderer.getRootNode())).toContain('jobtitle: Engineer → CTO');
  });

  it('approves through the backend, then refreshes the record properties and reloads', async () => {
    const { renderer, backend } = renderCard({
      'GET /card': { body: cardView([pendingCard('a1')]) },
      'POST /approvals/a1/decisions': { body: approval('a1', [], { status: 'applied' }) },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'approve-a1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.refreshObjectProperties.called).toBe(true));
    expect(backend.calls.find((call) => call.init?.method === 'POST')).toEqual({
      path: '/approvals/a1/decisions',
      init: { method: 'POST', body: { kind: 'approve' } },
    });
    await renderer.waitFor(() => expect(backend.calls.filter((call) => call.path.startsWith('/card'))).toHaveLength(2));
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({ type: 'success' });
  });

  it('a double click on Approve sends one decision, and the person sees no refusal of a second', async () => {
    // In HubSpot `disabled` reaches the page only after the card renders again: both clicks arrive.
    let decided = false;
    const { renderer, backend } = renderCard({
      'GET /card': () => ({ body: cardView(decided ? [] : [pendingCard('a1')]) }),
      'POST /approvals/a1/decisions': () => {
        if (decided)
          return { status: 409, body: { error: { code: 'APPROVAL_NOT_DECIDABLE', message: 'Already decided.' } } };
        decided = true;
        return { body: approval('a1', [], { status: 'applied' }) };
      },
    });
    await loaded(renderer);
    const approve = renderer.findByTestId(Button, 'approve-a1');
    approve.trigger('onClick');
    approve.trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'approve-a1')).toBeNull());
    expect(backend.calls.filter((call) => call.init?.method === 'POST')).toHaveLength(1);
    expect(renderer.mocks.actions.addAlert.calls.map((call) => call[0])).toEqual([
      { type: 'success', message: 'Proposal approved and written.' },
    ]);
  });

  it('a double click on a draft’s Approve releases it once', async () => {
    let released = false;
    const { renderer, backend } = renderCard({
      'GET /card': () => ({ body: cardView([], { drafts: released ? [] : [emailDraft('d1')] }) }),
      'POST /drafts/d1/decisions': () => {
        if (released)
          return { status: 409, body: { error: { code: 'ACTION_NOT_PENDING', message: 'Already released.' } } };
        released = true;
        return { body: { kind: 'send_email', status: 'released', message: null } };
      },
    });
    await loaded(renderer);
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'approve-draft-d1')).not.toBeNull());
    const approve = renderer.findByTestId(Button, 'approve-draft-d1');
    approve.trigger('onClick');
    approve.trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'approve-draft-d1')).toBeNull());
    expect(backend.calls.filter((call) => call.init?.method === 'POST')).toHaveLength(1);
    expect(renderer.mocks.actions.addAlert.calls.map((call) => call[0])).toEqual([
      { type: 'success', message: 'Email approved: the agent may now send it.' },
    ]);
  });

  it('sends the edited values when a person edits before approving', async () => {
    const { renderer, backend } = renderCard({
      'GET /card': { body: cardView([pendingCard('a1')]) },
      'POST /approvals/a1/decisions': { body: approval('a1', []) },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'edit-a1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFind(Input)).not.toBeNull());
    expect(renderer.find(Input).props.value).toBe('+1 555 0199');
    typeInto(renderer.find(Input), '+1 555 0123');
    await renderer.waitFor(() => expect(renderer.find(Input).props.value).toBe('+1 555 0123'));
    renderer.findByTestId(Button, 'approve-edited-a1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.refreshObjectProperties.called).toBe(true));
    expect(backend.calls.find((call) => call.init?.method === 'POST')?.init?.body).toEqual({
      kind: 'approve',
      edits: { phone: '+1 555 0123' },
    });
  });

  it('starts an edit from a first approver’s edited value and sends only what this person changed', async () => {
    const card = pendingCard('a1', {
      items: [
        { property: 'phone', before: '+1 555 0100', proposed: '+1 555 0199' },
        { property: 'jobtitle', before: 'Engineer', proposed: 'CTO' },
      ],
    });
    card.approval.tier = 'two_person';
    card.approval.items[0] = { ...card.approval.items[0]!, edited: '+1 555 0142', approvedBy: ['501'] };
    card.approval.items[1] = { ...card.approval.items[1]!, approvedBy: ['501'] };
    const { renderer, backend } = renderCard({
      'GET /card': { body: cardView([card]) },
      'POST /approvals/a1/decisions': { body: approval('a1', []) },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'edit-a1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.findAll(Input)).toHaveLength(2));
    const [phone, jobtitle] = renderer.findAll(Input);
    expect(phone!.props.value).toBe('+1 555 0142');
    typeInto(jobtitle!, 'Chief Technology Officer');
    await renderer.waitFor(() => expect(renderer.findAll(Input)[1]!.props.value).toBe('Chief Technology Officer'));
    renderer.findByTestId(Button, 'approve-edited-a1').trigger('onClick');
    await renderer.waitFor(() => expect(backend.calls.some((call) => call.init?.method === 'POST')).toBe(true));
    expect(backend.calls.find((call) => call.init?.method === 'POST')?.init?.body).toEqual({
      kind: 'approve',
      edits: { jobtitle: 'Chief Technology Officer' },
    });
  });

  it('rejects only with a reason, and sends it', async () => {
    const { renderer, backend } = renderCard({
      'GET /card': { body: cardView([pendingCard('a1')]) },
      'POST /approvals/a1/decisions': { body: approval('a1', [], { status: 'rejected' }) },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'reject-a1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFind(TextArea)).not.toBeNull());
    expect(renderer.findByTestId(Button, 'confirm-reject-a1').props.disabled).toBe(true);
    typeInto(renderer.find(TextArea), 'Wrong person');
    await renderer.waitFor(() => expect(renderer.findByTestId(Button, 'confirm-reject-a1').props.disabled).toBe(false));
    renderer.findByTestId(Button, 'confirm-reject-a1').trigger('onClick');
    await renderer.waitFor(() => expect(backend.calls.some((call) => call.init?.method === 'POST')).toBe(true));
    expect(backend.calls.find((call) => call.init?.method === 'POST')?.init?.body).toEqual({
      kind: 'reject',
      reason: 'Wrong person',
    });
  });

  it('shows the refusal as an alert and does not refresh when the backend says no', async () => {
    const { renderer } = renderCard({
      'GET /card': { body: cardView([pendingCard('a1')]) },
      'POST /approvals/a1/decisions': {
        status: 403,
        body: {
          error: { code: 'APPROVAL_DECISION_FORBIDDEN', message: 'A rep decides only on records they own in the CRM.' },
        },
      },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'approve-a1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'danger',
      message: 'A rep decides only on records they own in the CRM.',
    });
    expect(renderer.mocks.actions.refreshObjectProperties.called).toBe(false);
  });

  it('reads the card again when the proposal was decided meanwhile elsewhere, so it no longer offers a decision', async () => {
    let decidedElsewhere = false;
    const { renderer, backend } = renderCard({
      'GET /card': () => ({ body: cardView(decidedElsewhere ? [] : [pendingCard('a1')]) }),
      'POST /approvals/a1/decisions': () => {
        decidedElsewhere = true;
        return {
          status: 409,
          body: {
            error: {
              code: 'APPROVAL_NOT_DECIDABLE',
              message: 'This approval is applied; it can no longer be decided.',
              details: { refusal: 'approval_not_pending' },
            },
          },
        };
      },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'approve-a1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'danger',
      message: 'This approval is applied; it can no longer be decided.',
    });
    await renderer.waitFor(() => expect(backend.calls.filter((call) => call.path.startsWith('/card'))).toHaveLength(2));
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'approve-a1')).toBeNull());
    expect(renderer.mocks.actions.refreshObjectProperties.called).toBe(true);
  });

  it('reads the card again after a 500, as the decision may have been stored, and says so', async () => {
    let stored = false;
    const { renderer, backend } = renderCard({
      'GET /card': () => ({ body: cardView(stored ? [] : [pendingCard('a1')]) }),
      // Stored, then the answer was lost (a proxy's 500 without our body).
      'POST /approvals/a1/decisions': () => {
        stored = true;
        return { status: 500, body: 'Internal Server Error' };
      },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'approve-a1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'danger',
      title: 'Perhaps not decided',
      message: 'Agent Governance answered 500. The card shows how things stand now.',
    });
    await renderer.waitFor(() => expect(backend.calls.filter((call) => call.path.startsWith('/card'))).toHaveLength(2));
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'approve-a1')).toBeNull());
    expect(renderer.mocks.actions.refreshObjectProperties.called).toBe(true);
  });

  it('pages through many pending proposals', async () => {
    const { renderer, backend } = renderCard({
      'GET /card': (call) => ({
        body: cardView([pendingCard(call.path.includes('page=2') ? 'b6' : 'b1')], {
          total: 7,
          page: call.path.includes('page=2') ? 2 : 1,
        }),
      }),
    });
    await loaded(renderer);
    expect(allText(renderer.getRootNode())).toContain('1–1 of 7');
    expect(renderer.findByTestId(Button, 'previous-page').props.disabled).toBe(true);
    renderer.findByTestId(Button, 'next-page').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Button, 'approve-b6')).not.toBeNull());
    expect(backend.calls.at(-1)!.path).toContain('page=2');
  });

  it('says plainly when a kill switch is engaged, and offers reject but not approve', async () => {
    const { renderer } = renderCard({
      'GET /card': {
        body: cardView([pendingCard('a1')], {
          killSwitches: [
            { scope: 'workspace', target: null, reason: 'Bad batch', changedAt: '2026-11-23T10:00:00.000Z' },
          ],
        }),
      },
    });
    await loaded(renderer);
    expect(renderer.find(Alert).text).toContain('All agents are stopped: Bad batch');
    expect(renderer.maybeFindByTestId(Button, 'approve-a1')).toBeNull();
    expect(renderer.maybeFindByTestId(Button, 'reject-a1')).not.toBeNull();
  });

  it.each([
    [
      'an auditor',
      { ok: false, code: 'role_cannot_decide' } as const,
      'Your role can read proposals but not decide them.',
    ],
    [
      'a rep who does not own the record',
      { ok: false, code: 'not_record_owner' } as const,
      'Only the record owner, an approver or an admin can decide this proposal.',
    ],
  ])('shows %s no decision buttons, and says why', async (_who, decidable, sentence) => {
    const { renderer } = renderCard({
      'GET /card': { body: cardView([pendingCard('a1', { decidable })], { role: 'auditor' }) },
    });
    await loaded(renderer);
    expect(
      renderer.findAll(Button).filter((button) => /^(approve|edit|reject)-/.test(String(button.props.testId ?? ''))),
    ).toEqual([]);
    expect(allText(renderer.getRootNode())).toContain(sentence);
  });

  it('shows an empty state, a forbidden notice and an error with retry', async () => {
    const empty = renderCard({ 'GET /card': { body: cardView([]) } });
    await loaded(empty.renderer);
    expect(allText(empty.renderer.getRootNode())).toContain('No agent proposal on this record waits for a person.');

    const forbidden = renderCard({
      'GET /card': {
        status: 403,
        body: { error: { code: 'FORBIDDEN', message: 'HubSpot user 1 has no role in Agent Governance.' } },
      },
    });
    await forbidden.renderer.waitFor(() => expect(forbidden.renderer.maybeFind(Alert)).not.toBeNull());
    expect(forbidden.renderer.find(Alert).text).toContain('has no role');

    let attempts = 0;
    const failing = renderCard({
      'GET /card': () =>
        ++attempts === 1
          ? { status: 503, body: { error: { code: 'DATABASE_LOCKED', message: 'Busy.' } } }
          : { body: cardView([]) },
    });
    await failing.renderer.waitFor(() => expect(allText(failing.renderer.getRootNode())).toContain('Busy.'));
    failing.renderer.find(Button).trigger('onClick');
    await loaded(failing.renderer);
  });

  it('shortens a long proposed value', async () => {
    const long = 'word '.repeat(60).trim();
    const { renderer } = renderCard({
      'GET /card': {
        body: cardView([pendingCard('a1', { items: [{ property: 'notes', before: null, proposed: long }] })]),
      },
    });
    await loaded(renderer);
    const text = renderer.findByTestId(Text, 'diff-a1-notes').text ?? '';
    expect(text.startsWith('notes: (empty) → word word')).toBe(true);
    expect(text.endsWith('…')).toBe(true);
    expect(text.length).toBeLessThan(120);
  });
  it('reads a 60,000-character proposal whole on demand, as text, before anyone approves it', async () => {
    const hostile = '<script>alert(1)</script><b>bold</b> [click](javascript:alert(1)) \u202Eevil';
    const long = `${'word '.repeat(12_000)}${hostile}`;
    const { renderer } = renderCard({
      'GET /card': {
        body: cardView([pendingCard('a1', { items: [{ property: 'notes', before: 'Old note', proposed: long }] })]),
      },
    });
    await loaded(renderer);
    expect(renderer.findByTestId(Text, 'diff-a1-notes').text?.length).toBeLessThan(120);
    expect(renderer.maybeFindByTestId(Text, 'whole-a1-notes-proposed')).toBeNull();
    renderer.findByTestId(Button, 'whole-a1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Text, 'whole-a1-notes-proposed')).not.toBeNull());
    expect(renderer.findByTestId(Text, 'whole-a1-notes-now').text).toBe('notes now: Old note');
    expect(renderer.findByTestId(Text, 'whole-a1-notes-proposed').text).toBe(
      `notes proposed: ${'word '.repeat(12_000)}<script>alert(1)</script><b>bold</b> [click](javascript:alert(1)) ⟨U+202E⟩evil`,
    );
    // The markdown link stays text: the only link is the evidence's http(s) source.
    expect(renderer.findAll(Link).map((link) => link.props.href)).toEqual(['https://example.com/p/1']);
    renderer.findByTestId(Button, 'whole-a1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Text, 'whole-a1-notes-proposed')).toBeNull());
  });

  it('offers no whole view when every value is shown in full', async () => {
    const { renderer } = renderCard({ 'GET /card': { body: cardView([pendingCard('a1')]) } });
    await loaded(renderer);
    expect(renderer.maybeFindByTestId(Button, 'whole-a1')).toBeNull();
  });

  it('shows a bidirectional override in a proposal as a visible marker, so the value reads as it is', async () => {
    // In HubSpot this would display as "ceo@example.com", and the reason as the reverse of what it says.
    const card = pendingCard('a1', { items: [{ property: 'email', before: null, proposed: '\u202Emoc.elpmaxe@oec' }] });
    card.evidence = { ...card.evidence!, reason: 'Verified\u2067 by phone', source: 'crm\u202Edata' };
    card.evidence.url = undefined;
    card.agent = { ...card.agent, name: 'enri\u202Echer' };
    const { renderer } = renderCard({ 'GET /card': { body: cardView([card]) } });
    await loaded(renderer);
    expect(renderer.findByTestId(Text, 'diff-a1-email').text).toBe('email: (empty) → ⟨U+202E⟩moc.elpmaxe@oec');
    const shown = allText(renderer.getRootNode());
    expect(shown).toContain('Verified⟨U+2067⟩ by phone');
    expect(shown).toContain('Source: crm⟨U+202E⟩data');
    expect(shown).toContain('enri⟨U+202E⟩cher');
    expect(shown).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
  });
});

describe('reverting a recent change from the card', () => {
  const rollback = (
    status: 'running' | 'completed',
    counts = { reverted: 1, conflict: 0, alreadyReverted: 0, failed: 0 },
  ) => ({
    id: 'rb-1',
    status,
    statusReason: null,
    selector: { changeIds: ['c1'] },
    force: false,
    total: 1,
    done: status === 'completed' ? 1 : 0,
    counts,
    changeSetIds: {},
    createdAt: '2026-11-23T10:00:00.000Z',
    completedAt: null,
  });

  it('starts a rollback of that one change, follows it to the end, then refreshes the record', async () => {
    const { renderer, backend } = renderCard({
      'GET /card': { body: cardView([]) },
      'POST /rollbacks': { status: 202, body: rollback('running') },
      'GET /rollbacks/rb-1': { body: rollback('completed') },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'revert-c1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.refreshObjectProperties.called).toBe(true));
    expect(backend.calls.find((call) => call.path === '/rollbacks')?.init).toEqual({
      method: 'POST',
      body: { selector: { changeIds: ['c1'] } },
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toEqual({
      type: 'success',
      message: 'Rollback done: 1 reverted.',
    });
  });

  it('says so when someone changed the value since, instead of claiming success', async () => {
    const { renderer } = renderCard({
      'GET /card': { body: cardView([]) },
      'POST /rollbacks': { status: 202, body: rollback('running') },
      'GET /rollbacks/rb-1': {
        body: rollback('completed', { reverted: 0, conflict: 1, alreadyReverted: 0, failed: 0 }),
      },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'revert-c1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'warning',
      message: expect.stringContaining('1 left alone because someone changed them since'),
    });
  });

  it('offers no revert to a rep', async () => {
    const { renderer } = renderCard({ 'GET /card': { body: cardView([], { role: 'rep' }) } });
    await loaded(renderer);
    expect(renderer.maybeFindByTestId(Button, 'revert-c1')).toBeNull();
    expect(allText(renderer.getRootNode())).toContain('jobtitle: Engineer → CTO');
  });
});

function emailDraft(id: string, overrides: Partial<PendingDraft> = {}): PendingDraft {
  return {
    id,
    kind: 'send_email',
    agent: { id: 'agent-2', name: 'outreacher' },
    tier: 'approval',
    edited: false,
    expiresAt: '2026-11-26T00:00:00.000Z',
    decidable: { ok: true },
    content: {
      to: 'ada@example.com',
      subject: 'Following up on your demo',
      body: 'Hi Ada, here is the pricing sheet.',
    },
    ...overrides,
  };
}

const actionView = (id: string, kind: PendingDraft['kind'], status: string, message: string | null = null) => ({
  id,
  kind,
  status,
  message,
  proposed: {},
  edited: null,
  approvedBy: ['1'],
});

describe('drafts on the card', () => {
  it('shows each held draft with its recipient, subject and body', async () => {
    const { renderer } = renderCard({ 'GET /card': { body: cardView([], { drafts: [emailDraft('d1')] }) } });
    await loaded(renderer);
    expect(allText(renderer.getRootNode())).toContain('Drafts waiting to be sent (1)');
    expect(allText(renderer.getRootNode())).toContain('Email by outreacher');
    expect(renderer.findByTestId(Text, 'draft-d1-to').text).toBe('To: ada@example.com');
    expect(renderer.findByTestId(Text, 'draft-d1-subject').text).toBe('Following up on your demo');
    expect(renderer.findByTestId(Text, 'draft-d1-body').text).toBe('Hi Ada, here is the pricing sheet.');
  });

  it('approves a draft through the backend, says what became of it, and reloads', async () => {
    const { renderer, backend } = renderCard({
      'GET /card': { body: cardView([], { drafts: [emailDraft('d1')] }) },
      'POST /drafts/d1/decisions': { body: actionView('d1', 'send_email', 'released') },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'approve-draft-d1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(backend.calls.find((call) => call.init?.method === 'POST')).toEqual({
      path: '/drafts/d1/decisions',
      init: { method: 'POST', body: { kind: 'approve' } },
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toEqual({
      type: 'success',
      message: 'Email approved: the agent may now send it.',
    });
    await renderer.waitFor(() => expect(backend.calls.filter((call) => call.path.startsWith('/card'))).toHaveLength(2));
  });

  it.each([
    ['', 'Hi Ada, here is the pricing sheet.'],
    // The agent's body ends with a newline, which the rep's untouched text keeps: still not an edit.
    [' (a body ending with a newline left as it was)', 'Hi Ada, here is the pricing sheet.\n\nBest,\nSam\n'],
  ])('sends only what a person changed when they edit before approving, and never the recipient%s', async (_, body) => {
    const draft = emailDraft('d1', { content: { ...emailDraft('d1').content, body } });
    const { renderer, backend } = renderCard({
      'GET /card': { body: cardView([], { drafts: [draft] }) },
      'POST /drafts/d1/decisions': { body: actionView('d1', 'send_email', 'released') },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'edit-draft-d1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFind(Input)).not.toBeNull());
    expect(renderer.find(Input).props.label).toBe('Subject');
    expect(renderer.find(Input).props.value).toBe('Following up on your demo');
    expect(renderer.find(TextArea).props.value).toBe(body);
    typeInto(renderer.find(Input), 'Your pricing sheet');
    await renderer.waitFor(() => expect(renderer.find(Input).props.value).toBe('Your pricing sheet'));
    renderer.findByTestId(Button, 'approve-edited-draft-d1').trigger('onClick');
    await renderer.waitFor(() => expect(backend.calls.some((call) => call.init?.method === 'POST')).toBe(true));
    expect(backend.calls.find((call) => call.init?.method === 'POST')?.init?.body).toEqual({
      kind: 'approve',
      edits: { subject: 'Your pricing sheet' },
    });
  });

  it('reads a long hostile email whole on demand, as text, before releasing it', async () => {
    const tail = '<img src=x onerror=alert(1)> [Reset your password](https://evil.example) \u202Egnp.exe';
    const body = `${'Hi Ada, '.repeat(60)}${tail}`;
    const { renderer } = renderCard({
      'GET /card': {
        body: cardView([], { drafts: [emailDraft('d1', { content: { to: 'ada@example.com', subject: 'Hi', body } })] }),
      },
    });
    await loaded(renderer);
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(Text, 'draft-d1-body')).not.toBeNull());
    expect(renderer.findByTestId(Text, 'draft-d1-body').text).not.toContain('evil.example');
    renderer.findByTestId(Button, 'whole-draft-d1').trigger('onClick');
    await renderer.waitFor(() =>
      expect(renderer.findByTestId(Text, 'draft-d1-body').text).toBe(
        `${'Hi Ada, '.repeat(60)}<img src=x onerror=alert(1)> [Reset your password](https://evil.example) ⟨U+202E⟩gnp.exe`,
      ),
    );
    expect(renderer.maybeFind(Link)).toBeNull();
  });

  it('will not approve a draft whose edited body was emptied', async () => {
    const { renderer } = renderCard({ 'GET /card': { body: cardView([], { drafts: [emailDraft('d1')] }) } });
    await loaded(renderer);
    renderer.findByTestId(Button, 'edit-draft-d1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFind(TextArea)).not.toBeNull());
    typeInto(renderer.find(TextArea), '   ');
    await renderer.waitFor(() =>
      expect(renderer.findByTestId(Button, 'approve-edited-draft-d1').props.disabled).toBe(true),
    );
    expect(allText(renderer.getRootNode())).toContain('A draft cannot be approved with an empty field.');
  });

  it('rejects a draft only with a reason, and sends it', async () => {
    const { renderer, backend } = renderCard({
      'GET /card': {
        body: cardView([], {
          drafts: [emailDraft('d1', { kind: 'create_note', content: { body: 'Met at the summit.' } })],
        }),
      },
      'POST /drafts/d1/decisions': { body: actionView('d1', 'create_note', 'rejected') },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'reject-draft-d1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.maybeFind(TextArea)).not.toBeNull());
    expect(renderer.findByTestId(Button, 'confirm-reject-draft-d1').props.disabled).toBe(true);
    typeInto(renderer.find(TextArea), 'Not what we discussed');
    await renderer.waitFor(() =>
      expect(renderer.findByTestId(Button, 'confirm-reject-draft-d1').props.disabled).toBe(false),
    );
    renderer.findByTestId(Button, 'confirm-reject-draft-d1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(backend.calls.find((call) => call.init?.method === 'POST')?.init?.body).toEqual({
      kind: 'reject',
      reason: 'Not what we discussed',
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toEqual({ type: 'success', message: 'Note draft rejected.' });
  });

  it('shows the refusal when the backend says no', async () => {
    const { renderer } = renderCard({
      'GET /card': { body: cardView([], { drafts: [emailDraft('d1')] }) },
      'POST /drafts/d1/decisions': {
        status: 409,
        body: {
          error: { code: 'APPROVAL_NOT_DECIDABLE', message: 'This action is expired; it can no longer be decided.' },
        },
      },
    });
    await loaded(renderer);
    renderer.findByTestId(Button, 'approve-draft-d1').trigger('onClick');
    await renderer.waitFor(() => expect(renderer.mocks.actions.addAlert.called).toBe(true));
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'danger',
      message: 'This action is expired; it can no longer be decided.',
    });
  });

  it('offers a rep who does not own the record no decision, and says why', async () => {
    const { renderer } = renderCard({
      'GET /card': {
        body: cardView([], {
          role: 'rep',
          drafts: [emailDraft('d1', { decidable: { ok: false, code: 'not_record_owner' } })],
        }),
      },
    });
    await loaded(renderer);
    expect(renderer.findAll(Button).filter((button) => /-draft-/.test(String(button.props.testId ?? '')))).toEqual([]);
    expect(allText(renderer.getRootNode())).toContain(
      'Only the record owner, an approver or an admin can release or reject this draft.',
    );
  });

  it('offers only reject while a kill switch stops that kind of action', async () => {
    const killSwitches = [
      { scope: 'action' as const, target: 'send_email', reason: 'Bounce storm', changedAt: '2026-11-23T10:00:00.000Z' },
    ];
    const drafts = [
      emailDraft('d1'),
      emailDraft('n1', { kind: 'create_note', content: { body: 'Met at the summit.' } }),
    ];
    const { renderer } = renderCard({ 'GET /card': { body: cardView([], { drafts, killSwitches }) } });
    await loaded(renderer);
    expect(renderer.maybeFindByTestId(Button, 'approve-draft-d1')).toBeNull();
    expect(renderer.maybeFindByTestId(Button, 'reject-draft-d1')).not.toBeNull();
    expect(renderer.maybeFindByTestId(Button, 'approve-draft-n1')).not.toBeNull();
  });
});
