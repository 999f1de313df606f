import type { DecisionRefusalCode, ExtensionPermissions, PendingApprovalCard } from '../extension-api.ts';

/** Which buttons a person sees for a proposal, and why some are missing: the server still decides. */
export interface DecisionControls {
  approve: boolean;
  editThenApprove: boolean;
  reject: boolean;
  /** Shown instead of the buttons when this person cannot decide. */
  unavailableReason: string | null;
}

const REFUSAL_SENTENCES: Record<DecisionRefusalCode, string> = {
  role_cannot_decide: 'Your role can read proposals but not decide them.',
  not_record_owner: 'Only the record owner, an approver or an admin can decide this proposal.',
  delegated_user_cannot_approve: 'The agent acted for you, so someone else must approve.',
  already_approved_by_this_person: 'You already approved; a second person must approve too.',
};

const DRAFT_REFUSAL_SENTENCES: Record<DecisionRefusalCode, string> = {
  role_cannot_decide: 'Your role can read drafts but not decide them.',
  not_record_owner: 'Only the record owner, an approver or an admin can release or reject this draft.',
  delegated_user_cannot_approve: 'The agent drafted this for you, so someone else must approve it.',
  already_approved_by_this_person: 'You already approved this draft; a second person must approve it too.',
};

/** Why this person cannot decide a held email, task or note, in a sentence (the HubSpot card and the console alike). */
export function draftRefusalSentence(code: DecisionRefusalCode): string {
  return DRAFT_REFUSAL_SENTENCES[code];
}

/** For a held field change, and for a held creation or association (which offers no edit: see editThenApprove's callers). */
export function decisionControls(
  card: Pick<PendingApprovalCard, 'decidable'>,
  options: { killSwitchEngaged: boolean },
): DecisionControls {
  if (!card.decidable.ok)
    return {
      approve: false,
      editThenApprove: false,
      reject: false,
      unavailableReason: REFUSAL_SENTENCES[card.decidable.code],
    };
  // Approving while a switch is engaged would write for a stopped agent; rejecting writes nothing, so it stays.
  if (options.killSwitchEngaged)
    return {
      approve: false,
      editThenApprove: false,
      reject: true,
      unavailableReason: 'A kill switch is engaged: approving is paused until it is released.',
    };
  return { approve: true, editThenApprove: true, reject: true, unavailableReason: null };
}

/** The settings page's controls for this role. */
export function settingsControls(permissions: ExtensionPermissions) {
  return {
    editPolicy: permissions.publishPolicy,
    publish: permissions.publishPolicy,
    restorePolicy: permissions.publishPolicy,
    toggleKillSwitches: permissions.setKillSwitches,
    manageAgents: permissions.manageAgents,
    /** Shortening a period deletes data at the next run: those who publish the policy set it, as the server checks. */
    setRetention: permissions.publishPolicy,
    /** Where the audit trail streams and who is alerted are governance settings: those who publish the policy change them, as the server checks. */
    configureStreamingAndAlerts: permissions.publishPolicy,
    /** Release an agent a kill trigger stopped although its regression set fails: owners only, as the server checks. */
    forceRelease: permissions.setKillSwitches && permissions.role === 'owner',
  };
}
