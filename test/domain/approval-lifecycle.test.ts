import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkStale,
  decide,
  expire,
  valuesToApply,
  type Approval,
  type Decider,
  type PersonRole,
} from '../../server/src/domain/approval-lifecycle.ts';

const NOW = new Date('2026-11-23T10:00:00Z');
const LATER = new Date('2026-11-26T10:00:00Z');

function approval(overrides: Partial<Approval> = {}): Approval {
  return {
    status: 'pending',
    tier: 'approval',
    expiresAt: LATER,
    recordOwnerId: '11',
    delegatedUserId: '99',
    items: [
      { property: 'phone', proposedValue: '+1 555 0199', status: 'pending', approvedBy: [] },
      { property: 'email', proposedValue: 'new@example.com', status: 'pending', approvedBy: [] },
    ],
    ...overrides,
  };
}
/** Owner ids and user ids differ in HubSpot; here a person's owner id is their user id unless a case says otherwise. */
const person = (userId: string, role: PersonRole, ownerId: string | null = userId): Decider => ({
  userId,
  role,
  ownerId,
});

describe('who may decide', () => {
  it.each([
    { role: 'owner' as const, userId: '1', allowed: true },
    { role: 'revops_admin' as const, userId: '2', allowed: true },
    { role: 'approver' as const, userId: '3', allowed: true },
    { role: 'rep' as const, userId: '11', allowed: true },
    { role: 'rep' as const, userId: '12', allowed: false, code: 'not_record_owner' },
    { role: 'auditor' as const, userId: '4', allowed: false, code: 'role_cannot_decide' },
  ])('a $role (user $userId) on a record owned by 11: allowed=$allowed', ({ role, userId, allowed, code }) => {
    const result = decide(approval(), { kind: 'approve', by: person(userId, role) }, NOW);
    expect(result.ok).toBe(allowed);
    if (!result.ok) expect(result.code).toBe(code);
  });

  it('lets a rep decide by their owner id, which need not be their user id', () => {
    expect(decide(approval(), { kind: 'approve', by: person('5012', 'rep', '11') }, NOW).ok).toBe(true);
    expect(decide(approval(), { kind: 'approve', by: person('11', 'rep', null) }, NOW)).toMatchObject({
      ok: false,
      code: 'not_record_owner',
    });
    expect(
      decide(approval({ recordOwnerId: null }), { kind: 'approve', by: person('11', 'rep', null) }, NOW),
    ).toMatchObject({ ok: false, code: 'not_record_owner' });
  });

  it('never counts the person the agent acts for as its approver', () => {
    expect(decide(approval(), { kind: 'approve', by: person('99', 'approver') }, NOW)).toMatchObject({
      ok: false,
      code: 'delegated_user_cannot_approve',
    });
  });
});

describe('decisions', () => {
  it('approves every pending property at once, and keeps an edited value beside the agent’s', () => {
    const result = decide(
      approval(),
      { kind: 'approve', by: person('3', 'approver'), edits: { phone: '+1 555 0200' } },
      NOW,
    );
    expect(result.ok && result.approval.status).toBe('approved');
    if (!result.ok) return;
    expect(result.approval.items[0]).toMatchObject({
      proposedValue: '+1 555 0199',
      editedValue: '+1 555 0200',
      approvedBy: ['3'],
    });
    expect(valuesToApply(result.approval)).toEqual({ phone: '+1 555 0200', email: 'new@example.com' });
  });

  it('decides per property: one approved and one rejected make an approved approval that writes only the first', () => {
    const first = decide(approval(), { kind: 'approve', by: person('3', 'approver'), properties: ['phone'] }, NOW);
    expect(first.ok && first.approval.status).toBe('pending');
    if (!first.ok) return;
    const second = decide(
      first.approval,
      { kind: 'reject', by: person('3', 'approver'), properties: ['email'], reason: 'wrong domain' },
      NOW,
    );
    expect(second.ok && second.approval.status).toBe('approved');
    if (second.ok) expect(valuesToApply(second.approval)).toEqual({ phone: '+1 555 0199' });
  });

  it('a rejection of everything makes the approval rejected and writes nothing', () => {
    const result = decide(approval(), { kind: 'reject', by: person('11', 'rep'), reason: 'not our customer' }, NOW);
    expect(result.ok && result.approval.status).toBe('rejected');
    if (result.ok) expect(valuesToApply(result.approval)).toEqual({});
  });

  it('two_person needs two different people', () => {
    const held = approval({ tier: 'two_person' });
    const first = decide(held, { kind: 'approve', by: person('3', 'approver') }, NOW);
    expect(first.ok && first.approval.status).toBe('pending');
    if (!first.ok) return;
    expect(decide(first.approval, { kind: 'approve', by: person('3', 'approver') }, NOW)).toMatchObject({
      ok: false,
      code: 'already_approved_by_this_person',
    });
    const second = decide(first.approval, { kind: 'approve', by: person('2', 'revops_admin') }, NOW);
    expect(second.ok && second.approval.status).toBe('approved');
  });

  it.each(['approved', 'applied', 'rejected', 'expired', 'stale'] as const)(
    'refuses to decide an approval that is %s',
    (status) => {
      expect(decide(approval({ status }), { kind: 'approve', by: person('3', 'approver') }, NOW)).toMatchObject({
        ok: false,
        code: 'approval_not_pending',
      });
    },
  );

  it('refuses a decision that arrives after expiry, and the sweep expires only pending approvals past their time', () => {
    expect(decide(approval(), { kind: 'approve', by: person('3', 'approver') }, LATER)).toMatchObject({
      ok: false,
      code: 'approval_expired',
    });
    expect(expire(approval(), LATER).status).toBe('expired');
    expect(expire(approval(), NOW).status).toBe('pending');
    expect(expire(approval({ status: 'approved' }), LATER).status).toBe('approved');
  });

  it('refuses a property that has no pending proposal', () => {
    expect(
      decide(approval(), { kind: 'approve', by: person('3', 'approver'), properties: ['jobtitle'] }, NOW),
    ).toMatchObject({ ok: false, code: 'unknown_property' });
  });
});

describe('staleness', () => {
  it('becomes stale when a person changed a proposed property since the agent proposed, and never overwrites them', () => {
    const stale = checkStale(
      approval({
        status: 'approved',
        items: [{ property: 'phone', proposedValue: 'B', status: 'approved', approvedBy: ['3'] }],
      }),
      { phone: 'A' },
      { phone: 'C' },
    );
    expect(stale.status).toBe('stale');
    expect(valuesToApply(stale)).toEqual({});
  });

  it('stays as it is when the record still holds the values it had', () => {
    expect(checkStale(approval(), { phone: 'A', email: null }, { phone: 'A', email: null }).status).toBe('pending');
  });
});

describe('invariants', () => {
  const deciders = fc.record({
    userId: fc.constantFrom('1', '2', '3', '11', '12', '99'),
    role: fc.constantFrom<PersonRole>('owner', 'revops_admin', 'approver', 'rep', 'auditor'),
    ownerId: fc.constantFrom('11', '12', null),
  });
  const commands = fc.array(
    fc.oneof(
      deciders.map((by) => ({ kind: 'approve' as const, by })),
      deciders.map((by) => ({ kind: 'reject' as const, by, reason: 'no' })),
    ),
    { maxLength: 6 },
  );

  it('no sequence of decisions approves a two_person change with fewer than two distinct approvers, or with the delegated user', () => {
    fc.assert(
      fc.property(commands, (sequence) => {
        let state = approval({ tier: 'two_person' });
        for (const command of sequence) {
          const result = decide(state, command, NOW);
          if (result.ok) state = result.approval;
        }
        for (const item of state.items.filter((i) => i.status === 'approved')) {
          expect(new Set(item.approvedBy).size).toBeGreaterThanOrEqual(2);
          expect(item.approvedBy).not.toContain('99');
        }
      }),
    );
  });
});
