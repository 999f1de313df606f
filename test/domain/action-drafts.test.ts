import { describe, expect, it } from 'vitest';
import {
  contentHash,
  decideDraft,
  stopRuleReason,
  type HeldDraft,
  type StopRuleInput,
} from '../../server/src/domain/action-drafts.ts';
import { HUBSPOT_CONTACT_FIELDS } from '../../server/src/crm/hubspot/change-sources.ts';
import type { ReasonCode } from '../../shared/reason-codes.ts';

const CONTACT = {
  email: 'ada@example.com',
  hs_additional_emails: 'ada.l@example.org;ada@home.net',
  hs_email_optout: 'false',
  ag_do_not_contact: null,
};

describe('stop rules for an email', () => {
  it.each<{ what: string; input: Partial<StopRuleInput>; reason: ReasonCode | undefined }>([
    { what: 'the primary address', input: {}, reason: undefined },
    { what: 'an additional address, in other case', input: { to: ' Ada@Home.NET ' }, reason: undefined },
    {
      what: 'an address the contact does not have',
      input: { to: 'eve@example.com' },
      reason: 'recipient_not_on_record',
    },
    {
      what: 'a contact who opted out',
      input: { contact: { ...CONTACT, hs_email_optout: 'true' } },
      reason: 'contact_opted_out',
    },
    {
      what: 'a contact marked do-not-contact',
      input: { contact: { ...CONTACT, ag_do_not_contact: 'true' } },
      reason: 'contact_do_not_contact',
    },
    { what: 'a contact who replied', input: { stops: ['replied'] }, reason: 'contact_replied' },
    {
      what: 'a contact who unsubscribed and replied',
      input: { stops: ['replied', 'unsubscribed'] },
      reason: 'contact_unsubscribed',
    },
    {
      what: 'an opted-out contact, before the address is even looked at',
      input: { to: 'eve@example.com', contact: { ...CONTACT, hs_email_optout: 'true' } },
      reason: 'contact_opted_out',
    },
    { what: 'a contact with no address at all', input: { contact: {} }, reason: 'recipient_not_on_record' },
    {
      what: 'a recipient matched at submission, when only opt-outs and stops are checked again',
      input: { to: undefined, contact: {} },
      reason: undefined,
    },
    {
      what: 'a recipient matched at submission whose contact opted out since',
      input: { to: undefined, contact: { hs_email_optout: 'true' } },
      reason: 'contact_opted_out',
    },
  ])('decides $reason for $what', ({ input, reason }) => {
    expect(
      stopRuleReason({ to: 'ada@example.com', contact: CONTACT, fields: HUBSPOT_CONTACT_FIELDS, stops: [], ...input }),
    ).toBe(reason);
  });
});

describe('a person deciding a held draft', () => {
  const now = new Date('2026-01-07T15:00:00Z');
  const draft: HeldDraft = {
    tier: 'two_person',
    expiresAt: new Date('2026-01-10T15:00:00Z'),
    recordOwnerId: '1001',
    delegatedUserId: '2009',
    approvedBy: [],
  };
  const approver = { userId: '2001', role: 'approver', ownerId: null } as const;

  it.each<{
    what: string;
    draft: HeldDraft;
    command: Parameters<typeof decideDraft>[1];
    result: ReturnType<typeof decideDraft>;
  }>([
    {
      what: 'the first of two approvals keeps it pending',
      draft,
      command: { kind: 'approve', by: approver, editsContent: false },
      result: { ok: true, status: 'pending', approvedBy: ['2001'] },
    },
    {
      what: 'a second person releases it',
      draft: { ...draft, approvedBy: ['2002'] },
      command: { kind: 'approve', by: approver, editsContent: false },
      result: { ok: true, status: 'released', approvedBy: ['2002', '2001'] },
    },
    {
      what: 'an edit voids the earlier approval',
      draft: { ...draft, approvedBy: ['2002'] },
      command: { kind: 'approve', by: approver, editsContent: true },
      result: { ok: true, status: 'pending', approvedBy: ['2001'] },
    },
    {
      what: 'one approval releases an approval-tier draft',
      draft: { ...draft, tier: 'approval' },
      command: { kind: 'approve', by: approver, editsContent: false },
      result: { ok: true, status: 'released', approvedBy: ['2001'] },
    },
    {
      what: 'a rejection ends it',
      draft,
      command: { kind: 'reject', by: approver },
      result: { ok: true, status: 'rejected', approvedBy: [] },
    },
  ])('$what', ({ draft: held, command, result }) => {
    expect(decideDraft(held, command, now)).toEqual(result);
  });

  it.each([
    [
      'the delegated user',
      { userId: '2009', role: 'approver', ownerId: null } as const,
      'delegated_user_cannot_approve',
    ],
    ['an auditor', { userId: '3001', role: 'auditor', ownerId: null } as const, 'role_cannot_decide'],
    ['a rep on someone else’s record', { userId: '1002', role: 'rep', ownerId: '1002' } as const, 'not_record_owner'],
  ])('refuses %s', (_who, by, code) => {
    expect(decideDraft(draft, { kind: 'approve', by, editsContent: false }, now)).toMatchObject({
      ok: false,
      code,
      expired: false,
    });
  });

  it('refuses a decision after the expiry and says the draft expired', () => {
    expect(decideDraft(draft, { kind: 'approve', by: approver, editsContent: false }, draft.expiresAt)).toMatchObject({
      ok: false,
      code: 'approval_expired',
      expired: true,
    });
  });
});

describe('the content hash a release token vouches for', () => {
  it('does not depend on key order, and changes with any field', () => {
    expect(contentHash({ to: 'a@b.c', subject: 'S', body: 'B' })).toBe(
      contentHash({ body: 'B', subject: 'S', to: 'a@b.c' }),
    );
    expect(contentHash({ to: 'a@b.c', subject: 'S', body: 'B' })).not.toBe(
      contentHash({ to: 'a@b.c', subject: 'S', body: 'B.' }),
    );
  });
});
