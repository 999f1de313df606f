/** Held work: approvals, held drafts, held creations and associations as listed, and every decision on them (approve, edit, reject, expire, retry, mirror, withdraw). Other folders import this feature only from here. */
export { syncApprovalMirror, syncWorkspaceMirror } from './approval-mirror.ts';
export { reconcileApprovals } from './approval-reconciliation.ts';
export { approvalView, findApprovals, getApproval } from './approval-view.ts';
export { decideAction } from './decide-action.ts';
export { decideApproval, type DecidingPerson } from './decide-approval.ts';
export { type BatchedEntries, decideApprovalsBatch, type EntryOutcome } from './decide-approvals-batch.ts';
export { sweepExpiredDrafts } from './expire-actions.ts';
export { sweepExpiredApprovals } from './expire-approvals.ts';
export { sweepExpiredEntries } from './expire-entries.ts';
export { findHeldEntries, type HeldEntryView } from './held-entries.ts';
export { planApprovals } from './hold-for-approval.ts';
export { retryDueApplies, workspacesWithApprovalWork } from './retry-approvals.ts';
export { withdrawApprovals } from './withdraw-approvals.ts';
