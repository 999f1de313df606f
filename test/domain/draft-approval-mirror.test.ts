import { describe, expect, it } from 'vitest';
import { ACTION_STATUS_NAMES } from '../../shared/action-api.ts';
import {
  draftApprovalStatus,
  draftObjectValues,
  recordShadowValues,
  type DraftObjectInput,
} from '../../server/src/domain/approval-mirror.ts';

const email: DraftObjectInput = {
  kind: 'send_email',
  status: 'pending',
  agentName: 'outreach-agent',
  objectType: 'contacts',
  recordId: '101',
  expiresAt: new Date('2026-01-10T15:00:00Z'),
  decidedAt: null,
  decidedBy: [],
  message: null,
  proposed: { to: 'ada@example.com', subject: 'Pricing sheet', body: 'Hi Ada' },
  edited: null,
  evidence: { url: 'https://example.com/call/7', confidence: 0.8, reason: 'Asked on the call' },
  outcomes: [],
};

describe('a held draft as an Agent Approval', () => {
  it('reads every draft status in the approvals’ terms', () => {
    expect(Object.fromEntries(ACTION_STATUS_NAMES.map((status) => [status, draftApprovalStatus(status)]))).toEqual({
      pending: 'pending',
      released: 'approved',
      failed: 'approved',
      completed: 'applied',
      sent: 'applied',
      bounced: 'applied',
      rejected: 'rejected',
      refused: 'rejected',
      expired: 'expired',
      stopped: 'stale',
    });
  });

  it('shows the text, only the fields a person changed, and every reported outcome', () => {
    const values = draftObjectValues({
      ...email,
      status: 'bounced',
      decidedBy: ['2001'],
      decidedAt: new Date('2026-01-07T16:00:00Z'),
      edited: { to: 'ada@example.com', subject: 'The sheet', body: 'Hi Ada' },
      outcomes: [
        { outcome: 'sent', providerMessageId: 'msg-1', detail: null },
        { outcome: 'bounced', providerMessageId: null, detail: 'Mailbox full' },
      ],
    });
    expect(values).toMatchObject({
      ag_status: 'applied',
      ag_decided_by: '2001',
      ag_decided_at: '2026-01-07T16:00:00.000Z',
      ag_record: 'contacts/101',
      ag_confidence: '0.8',
    });
    expect(values['ag_diff']).toBe(
      'to: ada@example.com\nsubject: Pricing sheet\nbody: Hi Ada\n\nEdited before approval:\nsubject: The sheet',
    );
    expect(values['ag_outcome']).toBe(
      'Draft bounced.\nReported sent (provider message id msg-1)\nReported bounced: Mailbox full',
    );
  });

  it('keeps the summary within HubSpot’s text limit', () => {
    const values = draftObjectValues({ ...email, kind: 'create_note', proposed: { body: 'x'.repeat(1_000) } });
    expect(values['ag_summary']).toHaveLength(250);
    expect(values['ag_summary']!.startsWith('outreach-agent proposes a note: "xxx')).toBe(true);
  });

  it('counts held drafts among a record’s pending approvals', () => {
    expect(recordShadowValues([], 2, [], new Set(['ag_pending_approvals']))).toEqual({ ag_pending_approvals: '2' });
  });
});
