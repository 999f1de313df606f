import type { Policy } from '../../../../shared/policy.ts';
import type { ContactFields } from '../../../../shared/crm-names.ts';
import type { CrmRecordValues } from '../../crm/port.ts';
import {
  dayKey,
  recipientDomain,
  touchGapStart,
  weekKey,
  type EvaluateSendInput,
} from '../../domain/policy-evaluation.ts';
import { lastEmailByAnotherAgent, type ActionRow } from '../../store/action-store.ts';
import { findAgent } from '../../store/agent-store.ts';
import type { Tx } from '../../store/database.ts';
import { addUsage, readUsage } from '../../store/usage-store.ts';

/** Whose counts one email takes from when it is not refused: its recipient domain's, its contact's, its account's. */
export interface SendCounts {
  domain: string;
  contactId: string;
  /** The contact's account (company) id, when the CRM keeps one on the contact and it is set. */
  accountId?: string;
}

export interface SendFrequency {
  usage: EvaluateSendInput['usage'];
  lastTouchByAnotherAgent: Date | undefined;
  /** Another agent's email inside the gap, named in the refusal. */
  lastTouch: ActionRow | undefined;
  counts: SendCounts;
}

/**
 * What the frequency caps and the gap between agents need for one email, read under the
 * workspace's chain lock: today's sends to the recipient domain and the contact, today's and this
 * week's to the contact's account (issue 21), and another agent's email to the contact inside the gap.
 */
export async function readSendFrequency(
  tx: Tx,
  input: {
    workspaceId: string;
    agentId: string;
    contactId: string;
    to: string;
    policy: Policy;
    record: CrmRecordValues;
    fields: ContactFields;
    now: Date;
  },
): Promise<SendFrequency> {
  const { workspaceId, contactId, policy, now } = input;
  const day = dayKey(now, policy.timezone);
  const domain = recipientDomain(input.to);
  const accountId = (input.fields.account && input.record[input.fields.account]?.trim()) || undefined;
  const count = async (scope: Parameters<typeof readUsage>[1]['scope'], period: string, subject: string | undefined) =>
    subject === undefined
      ? 0
      : ((await readUsage(tx, { workspaceId, scope, day: period, subjects: [subject] })).get(subject) ?? 0);
  const since = touchGapStart(policy, now);
  const lastTouch =
    since === undefined
      ? undefined
      : await lastEmailByAnotherAgent(tx, { workspaceId, contactId, agentId: input.agentId, since });
  return {
    usage: {
      domainSendsToday: new Map([[domain, await count('domain_sends', day, domain)]]),
      contactSendsToday: await count('contact_sends', day, contactId),
      accountSendsToday: await count('account_sends', day, accountId),
      accountSendsThisWeek: await count('account_week_sends', weekKey(now, policy.timezone), accountId),
    },
    lastTouchByAnotherAgent: lastTouch?.createdAt,
    lastTouch,
    counts: { domain, contactId, ...(accountId ? { accountId } : {}) },
  };
}

/** Takes one email from each count it falls under, in the same transaction that stores it. */
export async function countSend(
  tx: Tx,
  input: { workspaceId: string; policy: Policy; now: Date; counts: SendCounts },
): Promise<void> {
  const { workspaceId, policy, now, counts } = input;
  const day = dayKey(now, policy.timezone);
  const one = (subject: string) => new Map([[subject, 1]]);
  await addUsage(tx, { workspaceId, scope: 'domain_sends', day, increments: one(counts.domain) });
  await addUsage(tx, { workspaceId, scope: 'contact_sends', day, increments: one(counts.contactId) });
  if (counts.accountId === undefined) return;
  await addUsage(tx, { workspaceId, scope: 'account_sends', day, increments: one(counts.accountId) });
  const week = weekKey(now, policy.timezone);
  await addUsage(tx, { workspaceId, scope: 'account_week_sends', day: week, increments: one(counts.accountId) });
}

/** The refusal's sentence for an email inside the gap: which agent's email, and when. */
export async function recentTouchMessage(tx: Tx, policy: Policy, touch: ActionRow): Promise<string> {
  const agent = await findAgent(tx, touch.workspaceId, touch.agentId);
  const hours = policy.touches?.minHoursBetweenAgents ?? 0;
  return `Agent ${agent?.name ?? touch.agentId} already emailed this contact at ${touch.createdAt.toISOString()} (action ${touch.id}, ${touch.status}); the policy keeps ${hours} hours between two agents' emails to one person.`;
}
