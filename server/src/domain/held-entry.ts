import type { APPROVAL_STATUSES } from '../../../shared/approval-api.ts';

type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
type EntryDecision = 'applying' | 'applied' | 'pending_approval' | 'denied' | 'failed';

/** The reason an expired entry carries: it was refused because nobody decided in time. */
export const EXPIRED_REASON = 'approval_expired';

/**
 * A held creation's or association's decision in the approvals' terms (issue 21), so they list
 * beside held field changes and drafts: waiting is `pending`; approved enough and being written,
 * or refused by the CRM then (its message says why), `approved`; written, `applied`; refused by a
 * person, `rejected`; refused by the approval expiry, `expired`.
 */
export function heldEntryStatus(entry: { decision: EntryDecision; reasons: readonly string[] }): ApprovalStatus {
  switch (entry.decision) {
    case 'pending_approval':
      return 'pending';
    case 'applied':
      return 'applied';
    case 'denied':
      return entry.reasons.includes(EXPIRED_REASON) ? 'expired' : 'rejected';
    case 'applying':
    case 'failed':
      return 'approved';
  }
}

/**
 * What a listing's status selects among held entries, the inverse of heldEntryStatus: the
 * decisions, and whether the entry expired (for `denied`); null when no entry has that status
 * (`stale` and `withdrawn` are field changes' and drafts' only).
 */
export function heldEntrySelection(
  status: ApprovalStatus,
): { decisions: readonly EntryDecision[]; expired?: boolean } | null {
  switch (status) {
    case 'pending':
      return { decisions: ['pending_approval'] };
    case 'approved':
      return { decisions: ['applying', 'failed'] };
    case 'applied':
      return { decisions: ['applied'] };
    case 'rejected':
      return { decisions: ['denied'], expired: false };
    case 'expired':
      return { decisions: ['denied'], expired: true };
    case 'stale':
    case 'withdrawn':
      return null;
  }
}
