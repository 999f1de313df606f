import { z } from 'zod';

/**
 * Stable reason codes carried by every decision. They are part of the API contract
 * (documented in docs/api.md): add new ones, never rename or reuse.
 */
export const REASON_CODES = [
  // The tier the policy gives the field for the agent's role.
  'tier_auto',
  'tier_approval',
  'tier_two_person',
  'tier_deny',
  // Deny by default: the policy does not name this object/property for this role.
  'field_not_allowed',
  // Conditions that raised the tier.
  'confidence_below_threshold',
  'record_condition_matched',
  'overwrites_non_empty_value',
  'evidence_missing',
  'evidence_source_not_allowed',
  // Caps and windows.
  'cap_agent_daily_writes_reached',
  'cap_record_daily_writes_reached',
  'cap_domain_daily_sends_reached',
  'outside_time_window',
  // Execution outcomes.
  'value_unchanged',
  'record_not_found',
  'kill_switch_engaged',
  'crm_rejected',
  'crm_unavailable',
  'crm_auth_failed',
  // Stop rules for drafts (issue 5): compliance refuses these whatever the policy says.
  'contact_opted_out',
  'contact_do_not_contact',
  'contact_replied',
  'contact_unsubscribed',
  'recipient_not_on_record',
  // Record creation (issue 21): a likely duplicate of an existing record (or of an earlier entry), and its daily cap.
  'duplicate_of',
  'cap_agent_daily_creates_reached',
  // Content rules for drafts (issue 21): the matched text is named in the draft's message.
  'content_banned',
  'content_required_missing',
  'content_personalisation_not_allowed',
  // Frequency (issue 21): emails to one contact today, across agents, reached the cap.
  'cap_contact_daily_sends_reached',
  // Safe re-enable and gates on change (issue 21): an `auto` write held for a person because the
  // agent is in safe mode after a kill trigger, declared a new prompt, or jumped in daily volume.
  'safe_mode',
  'prompt_changed',
  'volume_jump',
  // Suppression (issue 21): a hard bounce or a spam complaint stops every agent emailing the contact, like an opt-out.
  'contact_hard_bounced',
  'contact_complained',
  // Frequency per account (the contact's company) and the gap between two agents' emails to one person (issue 21).
  'cap_account_daily_sends_reached',
  'cap_account_weekly_sends_reached',
  'contact_recently_touched',
  // Budgets (issue 21): CRM calls made for the agent, or spend it reported, reached the policy's budget today.
  'budget_agent_crm_calls_reached',
  'budget_workspace_crm_calls_reached',
  'budget_agent_spend_reached',
  'budget_workspace_spend_reached',
  // Associations (issue 21): the agent's daily cap of associations was reached.
  'cap_agent_daily_associations_reached',
  // A held creation or association nobody decided before the policy's approval expiry (issue 21).
  'approval_expired',
] as const;

export const reasonCodeSchema = z.enum(REASON_CODES);
export type ReasonCode = z.infer<typeof reasonCodeSchema>;
