import { describe, expect, it } from 'vitest';
import { type ApprovalTrailEvent, approvedInTrail } from '../../server/src/domain/approved-in-trail.ts';

const created = (
  after: Record<string, string | null>,
  personalGone = false,
  before: Record<string, string | null> = Object.fromEntries(Object.keys(after).map((key) => [key, 'old'])),
): ApprovalTrailEvent => ({
  type: 'approval.created',
  before,
  after,
  data: { approvalId: 'a1' },
  personalGone,
});
const approve = (properties: string[], edits?: unknown, personalGone = false): ApprovalTrailEvent => ({
  type: 'approval.decided',
  before: null,
  after: null,
  data: { approvalId: 'a1', kind: 'approve', properties, ...(edits === undefined ? {} : { edits }) },
  personalGone,
});
const edit = (edited: string | null) => ({ proposed: 'ignored', edited });

describe('what the audit trail shows approved', () => {
  it('is the agent’s proposal for each property an approve decision names, and nothing else', () => {
    const approved = approvedInTrail([
      created({ phone: '1', jobtitle: 'CTO', city: null }),
      approve(['phone', 'city']),
    ]);
    expect(approved).toEqual(
      new Map([
        ['phone', { value: '1', before: 'old' }],
        ['city', { value: null, before: 'old' }],
      ]),
    );
  });

  it('is the last recorded edit, which a second approver without edits keeps', () => {
    const events = [created({ phone: '1' }), approve(['phone'], { phone: edit('2') }), approve(['phone'])];
    expect(approvedInTrail(events).get('phone')).toEqual({ value: '2', before: 'old' });
    expect(approvedInTrail([...events, approve(['phone'], { phone: edit(null) })]).get('phone')).toEqual({
      value: null,
      before: 'old',
    });
  });

  it('ignores an edit to a property the decision did not approve', () => {
    const approved = approvedInTrail([
      created({ phone: '1', mobilephone: '2' }),
      approve(['phone'], { mobilephone: edit('9') }),
      approve(['mobilephone']),
    ]);
    expect(approved.get('mobilephone')).toEqual({ value: '2', before: 'old' });
  });

  it('is unreadable where the personal values holding it are gone, and only there', () => {
    expect(approvedInTrail([created({ phone: '[redacted]' }, true), approve(['phone'])]).get('phone')).toBe(
      'unreadable',
    );
    expect(approvedInTrail([created({ phone: '1' }), approve(['phone'], '[redacted]', true)]).get('phone')).toBe(
      'unreadable',
    );
    // An agent may propose the literal text; while nothing was lost, it is the value.
    expect(approvedInTrail([created({ jobtitle: '[redacted]' }), approve(['jobtitle'])]).get('jobtitle')).toEqual({
      value: '[redacted]',
      before: 'old',
    });
  });

  it('carries the value before the proposal, as approval.created recorded it', () => {
    const approved = approvedInTrail([created({ phone: '1' }, false, { phone: null }), approve(['phone'])]);
    expect(approved.get('phone')).toEqual({ value: '1', before: null });
  });

  it('is unreadable without the proposal the approval was created with', () => {
    expect(approvedInTrail([approve(['phone'])]).get('phone')).toBe('unreadable');
    expect(approvedInTrail([created({ email: 'x' }), approve(['phone'])]).get('phone')).toBe('unreadable');
  });
});
