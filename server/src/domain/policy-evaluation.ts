import type { ActionKind, AgentRole, ObjectType } from '../../../shared/crm-names.ts';
import { TIERS, type Caps, type Policy, type RoleTiers, type Tier } from '../../../shared/policy.ts';
import type { ReasonCode } from '../../../shared/reason-codes.ts';
import { conditionApplies, conditionReasons, sameValue, type CurrentValues } from './policy-conditions.ts';
import { readsInFull } from './read-masking.ts';
import { isInsideWindow } from './time-window.ts';

export { dayKey, weekKey } from './time-window.ts';
export { sameValue } from './policy-conditions.ts';

export interface FieldWrite {
  recordId: string;
  property: string;
  proposedValue: string | null;
  evidence: { source: string; url?: string | undefined; confidence?: number | undefined; reason: string };
}

export interface FieldEvaluation {
  tier: Tier;
  reasons: ReasonCode[];
}

/** Index in the strictness order: auto 0, approval 1, two_person 2, deny 3. */
export function tierRank(tier: Tier): number {
  return TIERS.indexOf(tier);
}

/** The stricter of the two tiers: raising never lowers. */
export function raiseTier(current: Tier, to: Tier): Tier {
  return tierRank(to) > tierRank(current) ? to : current;
}

export interface EvaluateFieldsInput {
  policy: Policy;
  agentRole: AgentRole;
  objectType: ObjectType;
  writes: readonly FieldWrite[];
  /** Current CRM values of each record (every property read for it); callers pass only records that exist. */
  records: ReadonlyMap<string, CurrentValues>;
  /**
   * The records are being created, so their (empty) values are no secret; otherwise a current value
   * the policy's read rules do not let the role read in full counts as unknown.
   */
  newRecords?: boolean;
  now: Date;
}

export interface EvaluateChangeSetInput extends EvaluateFieldsInput {
  usage: { agentWritesToday: number; recordWritesToday: ReadonlyMap<string, number> };
}

/** A write decided on everything but the daily caps, which need today's counters. */
export interface UncappedEvaluation extends FieldEvaluation {
  /** Not denied and would change the value: the write takes one from each cap, or a cap denies it. */
  countsTowardCaps: boolean;
}

export interface ChangeSetEvaluation {
  /** One per write, in the order of the writes. */
  evaluations: FieldEvaluation[];
  /** What this change set adds to today's cap counters. */
  added: { agentWrites: number; recordWrites: Map<string, number> };
}

/**
 * Decides every field write of a change set, in order: the policy's tier for the role (deny by
 * default), raised by conditions, then time windows, then the daily caps. Only a write that is
 * not denied and would change the value consumes a cap; one that would pass a cap is denied.
 */
export function evaluateChangeSet(input: EvaluateChangeSetInput): ChangeSetEvaluation {
  return applyCaps({ ...input, uncapped: evaluateFields(input) });
}

/**
 * Every step but the caps. It needs no counters, so a caller that reads the counters under a
 * lock can decide this much before taking it.
 */
export function evaluateFields(input: EvaluateFieldsInput): UncappedEvaluation[] {
  const { policy, agentRole, objectType } = input;
  const outside = outsideWindows({ policy, action: 'field_write', role: agentRole, now: input.now });
  const readable = input.newRecords ? () => true : readsInFull(policy, objectType, agentRole);
  return input.writes.map((write): UncappedEvaluation => {
    const record = input.records.get(write.recordId) ?? {};
    const current = record[write.property] ?? null;
    // A value the agent may not read is never "unchanged" (and may be non-empty): a decision that
    // depended on it would let the agent guess it. People and the audit still see `before`.
    const currentHidden = !readable(write.property);
    let evaluation = tierWithConditions({ policy, agentRole, objectType, write, record, current, currentHidden });
    if (outside && evaluation.tier !== 'deny') evaluation = deny(evaluation, 'outside_time_window');
    if (!currentHidden && sameValue(current, write.proposedValue))
      return { ...evaluation, reasons: [...evaluation.reasons, 'value_unchanged'], countsTowardCaps: false };
    return { ...evaluation, countsTowardCaps: evaluation.tier !== 'deny' };
  });
}

/** The daily caps on top of `evaluateFields`, in the order of the writes, counting from today's usage. */
export function applyCaps(
  input: Pick<EvaluateChangeSetInput, 'policy' | 'agentRole' | 'writes' | 'usage'> & {
    uncapped: readonly UncappedEvaluation[];
  },
): ChangeSetEvaluation {
  const caps = capsFor(input.policy, input.agentRole);
  const added = { agentWrites: 0, recordWrites: new Map<string, number>() };
  const evaluations = input.uncapped.map((uncapped, index): FieldEvaluation => {
    const evaluation = { tier: uncapped.tier, reasons: uncapped.reasons };
    if (!uncapped.countsTowardCaps) return evaluation;
    const write = input.writes[index]!;
    const agentWrites = input.usage.agentWritesToday + added.agentWrites;
    const recordWritesAdded = added.recordWrites.get(write.recordId) ?? 0;
    const recordWrites = (input.usage.recordWritesToday.get(write.recordId) ?? 0) + recordWritesAdded;
    if (reached(caps.writesPerAgentPerDay, agentWrites)) return deny(evaluation, 'cap_agent_daily_writes_reached');
    if (reached(caps.writesPerRecordPerDay, recordWrites)) return deny(evaluation, 'cap_record_daily_writes_reached');
    added.agentWrites += 1;
    added.recordWrites.set(write.recordId, recordWritesAdded + 1);
    return evaluation;
  });
  return { evaluations, added };
}

interface WriteContext {
  policy: Policy;
  agentRole: AgentRole;
  objectType: ObjectType;
  write: FieldWrite;
  record: CurrentValues;
  current: string | null;
  currentHidden: boolean;
}

/**
 * The base tier, raised by every condition in scope that matches. Reasons name each matching
 * condition, even one whose tier is already met, so a reviewer sees every concern at once.
 */
function tierWithConditions(context: WriteContext): FieldEvaluation {
  const { policy, agentRole, objectType, write } = context;
  const base = baseEvaluation(policy.objects[objectType]?.properties[write.property], agentRole);
  if (base.tier === 'deny') return base;

  let tier: Tier = base.tier;
  const reasons = [...base.reasons];
  for (const condition of policy.conditions) {
    if (!conditionApplies(condition, { objectType, property: write.property, role: agentRole })) continue;
    for (const reason of conditionReasons(condition, context)) {
      tier = raiseTier(tier, condition.raiseTo);
      if (!reasons.includes(reason)) reasons.push(reason);
    }
  }
  return { tier, reasons };
}

/** A role named in the tiers wins over "*"; nothing named means deny by default. */
export function baseEvaluation(tiers: RoleTiers | undefined, role: AgentRole): FieldEvaluation {
  const tier = tiers?.[role] ?? tiers?.['*'];
  if (tier === undefined) return { tier: 'deny', reasons: ['field_not_allowed'] };
  return { tier, reasons: [`tier_${tier}`] };
}

function deny(evaluation: FieldEvaluation, reason: ReasonCode): FieldEvaluation {
  return { tier: 'deny', reasons: [...evaluation.reasons, reason] };
}

/** True when one more would pass the cap; an absent cap never limits. */
function reached(cap: number | undefined, used: number): boolean {
  return cap !== undefined && used >= cap;
}

/** The policy's caps with the role's overrides on top, each limit on its own. */
export function capsFor(policy: Policy, role: AgentRole): Caps {
  const { roleCaps, ...caps } = policy.caps;
  return { ...caps, ...roleCaps?.[role] };
}

/** True when some window governs this action for this role and `now` is inside none of them. */
function outsideWindows(input: { policy: Policy; action: ActionKind; role: AgentRole; now: Date }): boolean {
  const { policy, action, role, now } = input;
  const windows = policy.windows.filter(
    (window) => window.actions.includes(action) && (!window.roles || window.roles.includes(role)),
  );
  return (
    windows.length > 0 && !windows.some((window) => isInsideWindow({ window, now, policyTimeZone: policy.timezone }))
  );
}

export interface EvaluateSendInput {
  policy: Policy;
  agentRole: AgentRole;
  recipientEmail: string;
  /**
   * Emails to the contact today (every agent's), for `sendsPerContactPerDay`, and to its account
   * today and this week (issue 21: `sendsPerAccountPerDay`, `sendsPerAccountPerWeek`); absent counts as none.
   */
  usage: {
    domainSendsToday: ReadonlyMap<string, number>;
    contactSendsToday?: number;
    accountSendsToday?: number;
    accountSendsThisWeek?: number;
  };
  /** When another agent last emailed this contact (held or released), for `touches.minHoursBetweenAgents`. */
  lastTouchByAnotherAgent?: Date | undefined;
  now: Date;
}

export interface SendEvaluation extends FieldEvaluation {
  /** The lower-cased recipient domain: the key of the per-domain send counter. */
  recipientDomain: string;
  /** Whether this send takes one from today's count for its domain (it is not denied). */
  countsTowardCap: boolean;
}

/** Decides sending one email draft: the send_email tier for the role, windows, and the per-domain daily cap. */
export function evaluateSend(input: EvaluateSendInput): SendEvaluation {
  const { policy, agentRole } = input;
  const domain = recipientDomain(input.recipientEmail);
  const result = (evaluation: FieldEvaluation): SendEvaluation => ({
    ...evaluation,
    recipientDomain: domain,
    countsTowardCap: evaluation.tier !== 'deny',
  });

  const base = baseEvaluation(policy.actions.send_email, agentRole);
  if (base.tier === 'deny') return result(base);
  if (outsideWindows({ policy, action: 'send_email', role: agentRole, now: input.now }))
    return result(deny(base, 'outside_time_window'));
  const caps = capsFor(policy, agentRole);
  if (reached(caps.sendsPerRecipientDomainPerDay, input.usage.domainSendsToday.get(domain) ?? 0))
    return result(deny(base, 'cap_domain_daily_sends_reached'));
  if (reached(caps.sendsPerContactPerDay, input.usage.contactSendsToday ?? 0))
    return result(deny(base, 'cap_contact_daily_sends_reached'));
  if (reached(caps.sendsPerAccountPerDay, input.usage.accountSendsToday ?? 0))
    return result(deny(base, 'cap_account_daily_sends_reached'));
  if (reached(caps.sendsPerAccountPerWeek, input.usage.accountSendsThisWeek ?? 0))
    return result(deny(base, 'cap_account_weekly_sends_reached'));
  if (touchedTooRecently(policy, input.lastTouchByAnotherAgent, input.now))
    return result(deny(base, 'contact_recently_touched'));
  return result(base);
}

/** Since when another agent's email to a contact bars this one (undefined: no gap is set). */
export function touchGapStart(policy: Policy, now: Date): Date | undefined {
  const hours = policy.touches?.minHoursBetweenAgents;
  return hours === undefined ? undefined : new Date(now.getTime() - hours * 3_600_000);
}

function touchedTooRecently(policy: Policy, lastTouch: Date | undefined, now: Date): boolean {
  const since = touchGapStart(policy, now);
  return since !== undefined && lastTouch !== undefined && lastTouch > since;
}

/** Decides creating a task or a note on a record: the action's tier for the role (deny by default), then windows. */
export function evaluateRecordAction(input: {
  policy: Policy;
  agentRole: AgentRole;
  action: 'create_task' | 'create_note';
  now: Date;
}): FieldEvaluation {
  const { policy, agentRole, action } = input;
  const base = baseEvaluation(policy.actions[action], agentRole);
  if (base.tier === 'deny') return base;
  if (outsideWindows({ policy, action, role: agentRole, now: input.now })) return deny(base, 'outside_time_window');
  return base;
}

/** "Ada@Example.COM" → "example.com"; an address without "@" counts as its own domain. */
export function recipientDomain(email: string): string {
  const trimmed = email.trim();
  return trimmed.slice(trimmed.lastIndexOf('@') + 1).toLowerCase();
}
