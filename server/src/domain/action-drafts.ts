/**
 * Drafts (issue 5), pure: the stop rules compliance demands before any policy, and people's
 * decisions on a held draft. Who may decide, two-person and expiry are the approval state
 * machine's own rules (approval-lifecycle.ts): a draft is decided as an approval of one item.
 */
import { createHash } from 'node:crypto';
import type { ContactFields } from '../../../shared/crm-names.ts';
import type { ReasonCode } from '../../../shared/reason-codes.ts';
import { decide, expire, type Approval, type Decider, type RefusalCode } from './approval-lifecycle.ts';
import { canonicalJson } from './audit-chain.ts';

/**
 * The CRM has no do-not-contact property of its own; ours is a checkbox a person or a workflow
 * ticks. Absent from the account, it reads as unset (the CRM leaves unknown properties out).
 */
export const DO_NOT_CONTACT_PROPERTY = 'ag_do_not_contact';

/** The contact properties the stop rules read, named by the CRM's `fields`. */
export function stopRuleProperties(fields: ContactFields): string[] {
  return [...optOutProperties(fields), ...fields.emails];
}

/** Opt-out (and, where the CRM keeps one, hard-bounce) properties a webhook can tell us about between two reads of the record. */
export function optOutProperties(fields: ContactFields): string[] {
  return [fields.optOut, DO_NOT_CONTACT_PROPERTY, ...(fields.hardBounce ? [fields.hardBounce] : [])];
}

/**
 * What was reported for a contact that stops every agent emailing it (issue 21 adds a hard
 * bounce and a spam complaint to a reply and an unsubscribe).
 */
export type ContactStopReason = 'replied' | 'unsubscribed' | 'hard_bounced' | 'complained';

/** The reason code a stop gives an email refused for it. */
export const STOP_REASON_CODES: Record<ContactStopReason, ReasonCode> = {
  replied: 'contact_replied',
  unsubscribed: 'contact_unsubscribed',
  hard_bounced: 'contact_hard_bounced',
  complained: 'contact_complained',
};

/** Every reason `stopRuleReason` gives: compliance refused or stopped the email, whatever the policy says. */
export const STOP_RULE_REASONS: ReadonlySet<string> = new Set<ReasonCode>([
  'contact_opted_out',
  'contact_do_not_contact',
  ...Object.values(STOP_REASON_CODES),
  'recipient_not_on_record',
]);

export interface StopRuleInput {
  /**
   * The recipient the agent wants to email; undefined when it was matched to the contact's
   * addresses before (at submission) and only opt-outs and stops can have changed since.
   */
  to: string | undefined;
  /** The contact's current values of `stopRuleProperties(fields)`. */
  contact: Readonly<Record<string, string | null>>;
  /** Where the CRM keeps the contact's opt-out and addresses. */
  fields: ContactFields;
  /** What was reported for this contact before (a reply, an unsubscribe, a hard bounce, a spam complaint). */
  stops: readonly ContactStopReason[];
}

/**
 * Why this email must not go out, whatever the policy says, or undefined. The recipient must be
 * one of the contact's own addresses, so the contact's opt-out speaks for the person emailed.
 */
export function stopRuleReason(input: StopRuleInput): ReasonCode | undefined {
  const { contact, fields } = input;
  if (isChecked(contact[fields.optOut])) return 'contact_opted_out';
  if (isChecked(contact[DO_NOT_CONTACT_PROPERTY])) return 'contact_do_not_contact';
  if (input.stops.includes('complained')) return 'contact_complained';
  if (input.stops.includes('unsubscribed')) return 'contact_unsubscribed';
  if (input.stops.includes('hard_bounced') || hasHardBounced(contact, fields)) return 'contact_hard_bounced';
  if (input.stops.includes('replied')) return 'contact_replied';
  if (input.to !== undefined && !contactAddresses(contact, fields).includes(normalisedEmail(input.to)))
    return 'recipient_not_on_record';
  return undefined;
}

/**
 * The contact as the stop rules see it: an opt-out counts if the CRM says so now or the newest
 * webhook about it said so. Erring towards not sending, a resubscription not yet seen in both
 * waits for the next read.
 */
export function withNotedOptOuts(
  contact: Readonly<Record<string, string | null>>,
  noted: Readonly<Record<string, string | null>>,
  fields: ContactFields,
): Record<string, string | null> {
  const merged: Record<string, string | null> = { ...contact };
  for (const property of [fields.optOut, DO_NOT_CONTACT_PROPERTY]) {
    if (isChecked(noted[property])) merged[property] = 'true';
  }
  if (fields.hardBounce && hasHardBounced(noted, fields)) merged[fields.hardBounce] = noted[fields.hardBounce] ?? null;
  return merged;
}

/** The CRM's own record of a hard bounce (its reason or date), where it keeps one: any value is one. */
function hasHardBounced(contact: Readonly<Record<string, string | null>>, fields: ContactFields): boolean {
  return fields.hardBounce !== undefined && (contact[fields.hardBounce] ?? '').trim() !== '';
}

export function normalisedEmail(email: string): string {
  return email.trim().toLowerCase();
}

function contactAddresses(contact: Readonly<Record<string, string | null>>, fields: ContactFields): string[] {
  return fields.emails
    .flatMap((property) => (contact[property] ?? '').split(';'))
    .map(normalisedEmail)
    .filter((address) => address !== '');
}

function isChecked(value: string | null | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

/** The content people approved: the edited version when someone edited it. */
export function releasedContent<T extends object>(proposed: T, edited: T | null): T {
  return edited ?? proposed;
}

/** SHA-256 (hex) of the content as canonical JSON: what a release token vouches for. */
export function contentHash(content: object): string {
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

export type DraftStatus = 'pending' | 'released' | 'rejected' | 'expired';

export interface HeldDraft {
  tier: 'approval' | 'two_person';
  expiresAt: Date;
  recordOwnerId: string | null;
  delegatedUserId: string | null;
  /** People who approved the content as it now stands. */
  approvedBy: string[];
}

export type DraftCommand = { kind: 'approve'; by: Decider; editsContent: boolean } | { kind: 'reject'; by: Decider };

export type DraftTransition =
  | { ok: true; status: DraftStatus; approvedBy: string[] }
  | { ok: false; code: RefusalCode; message: string; expired: boolean };

/**
 * One person's decision on a pending draft. An edit changes what is approved, so approvals given
 * to the earlier version no longer count: on a two_person draft the editor's approval is the
 * first of two again.
 */
export function decideDraft(draft: HeldDraft, command: DraftCommand, now: Date): DraftTransition {
  const approvedBy = command.kind === 'approve' && command.editsContent ? [] : draft.approvedBy;
  const approval: Approval = {
    status: 'pending',
    tier: draft.tier,
    expiresAt: draft.expiresAt,
    recordOwnerId: draft.recordOwnerId,
    delegatedUserId: draft.delegatedUserId,
    items: [{ property: 'draft', proposedValue: null, status: 'pending', approvedBy }],
  };
  const transition =
    command.kind === 'approve'
      ? decide(approval, { kind: 'approve', by: command.by }, now)
      : decide(approval, { kind: 'reject', by: command.by, reason: 'rejected' }, now);
  if (!transition.ok) return { ...transition, expired: expire(approval, now).status === 'expired' };
  const item = transition.approval.items[0];
  return { ok: true, status: draftStatus(transition.approval.status), approvedBy: item?.approvedBy ?? approvedBy };
}

function draftStatus(status: Approval['status']): DraftStatus {
  switch (status) {
    case 'approved':
      return 'released';
    case 'rejected':
      return 'rejected';
    case 'expired':
      return 'expired';
    default:
      return 'pending';
  }
}
