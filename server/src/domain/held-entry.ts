import type { ListingStatus } from '../../../shared/approval-api.ts';

type EntryDecision = 'applying' | 'applied' | 'pending_approval' | 'denied' | 'failed';

/** The reason an expired entry carries: it was refused because nobody decided in time. */
export const EXPIRED_REASON = 'approval_expired';

/**
 * A held creation's or association's decision in the approvals' terms (issue 21), so they list
 * beside held field changes and drafts: waiting is `pending`; approved enough and being written
 * (or waiting to be tried again after the CRM failed for now), `approved`; written, `applied`;
 * refused by the CRM for good (its message says why), `failed`; refused by a person, `rejected`;
 * refused by the approval expiry, `expired`.
 */
export function heldEntryStatus(entry: { decision: EntryDecision; reasons: readonly string[] }): ListingStatus {
  switch (entry.decision) {
    case 'pending_approval':
      return 'pending';
    case 'applied':
      return 'applied';
    case 'denied':
      return entry.reasons.includes(EXPIRED_REASON) ? 'expired' : 'rejected';
    case 'applying':
      return 'approved';
    case 'failed':
      return 'failed';
  }
}

/**
 * What a listing's status selects among held entries, the inverse of heldEntryStatus: the
 * decisions, and whether the entry expired (for `denied`); null when no entry has that status
 * (`stale` and `withdrawn` are field changes' and drafts' only).
 */
export function heldEntrySelection(
  status: ListingStatus,
): { decisions: readonly EntryDecision[]; expired?: boolean } | null {
  switch (status) {
    case 'pending':
      return { decisions: ['pending_approval'] };
    case 'approved':
      return { decisions: ['applying'] };
    case 'failed':
      return { decisions: ['failed'] };
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

/** Why a CRM call may succeed if tried again later: it was not answered, or a kill switch held it. */
export const RETRIED_REASONS = ['crm_unavailable', 'kill_switch_engaged'] as const;

const RETRY_MIN_MS = 30_000;
const RETRY_MAX_MS = 60 * 60_000;

/**
 * When a held entry a person approved, whose write failed for now, is tried again: after as long
 * as it has waited since the approval (so the waits double, as an approval's retries do), at least
 * 30 s and at most an hour. Nothing is stored per attempt: the approval's time says it all.
 */
export function entryRetryAt(decidedAt: Date, now: Date): Date {
  const waited = now.getTime() - decidedAt.getTime();
  return new Date(now.getTime() + Math.min(Math.max(waited, RETRY_MIN_MS), RETRY_MAX_MS));
}
