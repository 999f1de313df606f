import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AGENT_ROLES, type AgentRole, type ObjectType } from '../../shared/crm-names.ts';
import { parsePolicy, type Policy, type Tier } from '../../shared/policy.ts';
import type { ReasonCode } from '../../shared/reason-codes.ts';
import { evaluateSend, type FieldWrite } from '../../server/src/domain/policy-evaluation.ts';
import { GOOD_EVIDENCE, WEDNESDAY_MORNING_NY, evaluateOne } from './policy-fixtures.ts';

function loadExamplePolicy(): Policy {
  const parsed = parsePolicy(
    JSON.parse(fs.readFileSync(new URL('../../examples/policy.json', import.meta.url), 'utf8')),
  );
  if (!parsed.ok) throw new Error(`examples/policy.json is invalid:\n${parsed.issues.join('\n')}`);
  return parsed.policy;
}

const policy = loadExamplePolicy();
const OTHER_ROLES = AGENT_ROLES.filter((role) => role !== 'routing');
const OPT_OUTS = [
  'hs_email_optout',
  'hs_email_bad_address',
  'hs_email_quarantined',
  'hs_email_quarantined_reason',
  'hs_email_hard_bounce_reason_enum',
  'hs_marketable_status',
  'hs_legal_basis',
];

const tierOf = (input: { objectType: ObjectType; role: AgentRole; property: string }) =>
  evaluateOne({ policy, objectType: input.objectType, role: input.role, write: { property: input.property } });

describe('the example policy, the safe-actions catalog', () => {
  it.each(['jobtitle', 'company', 'industry', 'city', 'country', 'numemployees'])(
    'lets enrichment fill contacts.%s on its own',
    (property) => {
      expect(tierOf({ objectType: 'contacts', role: 'enrichment', property })).toEqual({
        tier: 'auto',
        reasons: ['tier_auto'],
      });
    },
  );

  it.each(['phone', 'mobilephone', 'email', 'hubspot_owner_id', 'lifecyclestage', 'hs_lead_status'])(
    'holds an enrichment write to contacts.%s for approval',
    (property) => {
      expect(tierOf({ objectType: 'contacts', role: 'enrichment', property })).toEqual({
        tier: 'approval',
        reasons: ['tier_approval'],
      });
    },
  );

  it.each(OPT_OUTS.flatMap((property) => AGENT_ROLES.map((role) => ({ property, role }))))(
    'refuses $role any write to the do-not-contact property $property',
    ({ property, role }) => {
      expect(tierOf({ objectType: 'contacts', role, property })).toEqual({ tier: 'deny', reasons: ['tier_deny'] });
    },
  );

  it.each(['dealstage', 'amount', 'closedate'])(
    'lets the routing agent propose deals.%s for two people to approve',
    (property) => {
      expect(tierOf({ objectType: 'deals', role: 'routing', property }).tier).toBe('two_person');
    },
  );

  it.each(['dealstage', 'amount', 'closedate'].flatMap((property) => OTHER_ROLES.map((role) => ({ property, role }))))(
    'refuses $role a write to deals.$property',
    ({ property, role }) => {
      expect(tierOf({ objectType: 'deals', role, property })).toEqual({ tier: 'deny', reasons: ['tier_deny'] });
    },
  );

  it.each<{ objectType: ObjectType; role: AgentRole; property: string }>([
    { objectType: 'contacts', role: 'enrichment', property: 'firstname' },
    { objectType: 'contacts', role: 'outreach', property: 'jobtitle' },
    { objectType: 'contacts', role: 'prospecting', property: 'phone' },
    { objectType: 'deals', role: 'routing', property: 'description' },
    { objectType: 'deals', role: 'enrichment', property: 'hubspot_owner_id' },
  ])('denies by default $role writing the unnamed $objectType.$property', (input) => {
    expect(tierOf(input)).toEqual({ tier: 'deny', reasons: ['field_not_allowed'] });
  });

  it.each<{ what: string; write: Partial<FieldWrite>; current: Record<string, string>; reason: ReasonCode }>([
    {
      what: 'a confidence below 0.7',
      write: { evidence: { ...GOOD_EVIDENCE, confidence: 0.6 } },
      current: {},
      reason: 'confidence_below_threshold',
    },
    {
      what: 'a contact who is a customer',
      write: {},
      current: { lifecyclestage: 'customer' },
      reason: 'record_condition_matched',
    },
    {
      what: 'an overwrite of a non-empty company',
      write: { property: 'company', proposedValue: 'Globex' },
      current: { company: 'Acme' },
      reason: 'overwrites_non_empty_value',
    },
    {
      what: 'a company change with no link to check it',
      write: { property: 'company', evidence: { ...GOOD_EVIDENCE, url: undefined } },
      current: {},
      reason: 'evidence_missing',
    },
    {
      what: 'a source off the allowlist',
      write: { evidence: { ...GOOD_EVIDENCE, source: 'random-forum' } },
      current: {},
      reason: 'evidence_source_not_allowed',
    },
  ])('holds an otherwise automatic enrichment write for approval on $what', ({ write, current, reason }) => {
    expect(evaluateOne({ policy, write, current })).toEqual({ tier: 'approval', reasons: ['tier_auto', reason] });
  });

  it('still applies an enrichment write to a lead whose company was empty', () => {
    const evaluation = evaluateOne({
      policy,
      write: { property: 'company', proposedValue: 'Globex' },
      current: { company: '', lifecyclestage: 'lead' },
    });
    expect(evaluation.tier).toBe<Tier>('auto');
  });

  it.each<{ role: AgentRole; at: Date; sentToday: number; tier: Tier; reasons: ReasonCode[] }>([
    { role: 'outreach', at: WEDNESDAY_MORNING_NY, sentToday: 0, tier: 'approval', reasons: ['tier_approval'] },
    {
      role: 'outreach',
      at: new Date('2026-01-10T15:00:00Z'),
      sentToday: 0,
      tier: 'deny',
      reasons: ['tier_approval', 'outside_time_window'],
    },
    {
      role: 'outreach',
      at: new Date('2026-01-07T23:30:00Z'),
      sentToday: 0,
      tier: 'deny',
      reasons: ['tier_approval', 'outside_time_window'],
    },
    { role: 'outreach', at: WEDNESDAY_MORNING_NY, sentToday: 49, tier: 'approval', reasons: ['tier_approval'] },
    {
      role: 'outreach',
      at: WEDNESDAY_MORNING_NY,
      sentToday: 50,
      tier: 'deny',
      reasons: ['tier_approval', 'cap_domain_daily_sends_reached'],
    },
    { role: 'enrichment', at: WEDNESDAY_MORNING_NY, sentToday: 0, tier: 'deny', reasons: ['field_not_allowed'] },
  ])(
    'decides $tier for an email by $role at $at after $sentToday sends to the domain today',
    ({ role, at, sentToday, tier, reasons }) => {
      const evaluation = evaluateSend({
        policy,
        agentRole: role,
        recipientEmail: 'ada@example.com',
        usage: { domainSendsToday: new Map([['example.com', sentToday]]) },
        now: at,
      });
      expect(evaluation).toMatchObject({ tier, reasons });
    },
  );
});
