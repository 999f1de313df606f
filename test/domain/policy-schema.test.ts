import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../shared/policy.ts';

const MINIMAL = {
  name: 'Minimal',
  timezone: 'Europe/Paris',
  objects: { contacts: { properties: { jobtitle: { enrichment: 'auto', '*': 'deny' } } } },
};
const withCondition = (condition: Record<string, unknown>) => ({
  ...MINIMAL,
  conditions: [{ raiseTo: 'approval', ...condition }],
});

function issuesOf(document: unknown): string[] {
  const parsed = parsePolicy(document);
  if (parsed.ok) throw new Error('expected the policy to be refused');
  return parsed.issues;
}

describe('parsePolicy', () => {
  it('accepts a minimal policy and fills in the defaults', () => {
    expect(parsePolicy(MINIMAL)).toEqual({
      ok: true,
      policy: { ...MINIMAL, conditions: [], caps: {}, windows: [], actions: {}, approvals: { expiryHours: 72 } },
    });
  });

  it('accepts every part of the policy language', () => {
    const full = {
      ...MINIMAL,
      description: 'All of it',
      objects: { contacts: MINIMAL.objects.contacts, deals: { properties: { amount: { routing: 'two_person' } } } },
      conditions: [
        { kind: 'confidence_below', threshold: 0.7, raiseTo: 'approval', roles: ['enrichment'] },
        {
          kind: 'record_matches',
          objectType: 'deals',
          property: 'amount',
          op: 'gte',
          value: 100000,
          raiseTo: 'deny',
          properties: ['amount'],
        },
        {
          kind: 'record_matches',
          objectType: 'contacts',
          property: 'lifecyclestage',
          op: 'in',
          values: ['customer'],
          raiseTo: 'two_person',
        },
        { kind: 'record_matches', objectType: 'contacts', property: 'email', op: 'is_empty', raiseTo: 'approval' },
        { kind: 'overwrites_non_empty', objectTypes: ['contacts'], properties: ['jobtitle'], raiseTo: 'approval' },
        { kind: 'evidence', requireUrl: true, allowedSources: ['clearbit'], raiseTo: 'approval' },
      ],
      caps: {
        writesPerAgentPerDay: 10,
        writesPerRecordPerDay: 2,
        sendsPerRecipientDomainPerDay: 5,
        roleCaps: { outreach: { sendsPerRecipientDomainPerDay: 1 } },
      },
      windows: [
        {
          actions: ['send_email', 'field_write'],
          roles: ['outreach'],
          days: ['fri'],
          start: '22:00',
          end: '02:00',
          timezone: 'Asia/Tokyo',
        },
      ],
      actions: { send_email: { outreach: 'approval', '*': 'deny' } },
      approvals: { expiryHours: 24 },
    };
    expect(parsePolicy(full)).toEqual({ ok: true, policy: full });
  });

  it.each<{ what: string; document: unknown; issue: string }>([
    { what: 'a document that is not an object', document: null, issue: 'The policy must be an object; got null' },
    { what: 'a missing name', document: { ...MINIMAL, name: undefined }, issue: 'name is required' },
    { what: 'a blank name', document: { ...MINIMAL, name: '  ' }, issue: 'name must not be empty' },
    {
      what: 'an unknown top-level key',
      document: { ...MINIMAL, owner: 'me' },
      issue: 'The policy has unknown field "owner"; check the spelling',
    },
    {
      what: 'a time zone that does not exist',
      document: { ...MINIMAL, timezone: 'Mars/Olympus' },
      issue: 'timezone must be an IANA time zone such as Europe/Paris or America/New_York',
    },
    {
      what: 'an unknown object type',
      document: { ...MINIMAL, objects: { leads: { properties: {} } } },
      issue: 'objects has unknown field "leads"; check the spelling',
    },
    {
      what: 'an unknown key in an object',
      document: { ...MINIMAL, objects: { contacts: { properties: {}, fields: {} } } },
      issue: 'objects.contacts has unknown field "fields"; check the spelling',
    },
    {
      what: 'a property name that is not an internal name',
      document: { ...MINIMAL, objects: { contacts: { properties: { 'Job Title': { enrichment: 'auto' } } } } },
      issue:
        'objects.contacts.properties has a key "Job Title" that is not valid: it must be a CRM internal property name: letters, digits and underscores, starting with a letter (HubSpot’s in lower case, such as jobtitle; a Salesforce field API name, such as Lead_Score__c)',
    },
    {
      // Salesforce's field API names keep their capitals: the sentence must not send the admin to lower case.
      what: 'a Salesforce field name with a space',
      document: {
        ...MINIMAL,
        objects: { 'salesforce:Contact': { properties: { 'Lead Score': { enrichment: 'auto' } } } },
      },
      issue:
        'objects["salesforce:Contact"].properties has a key "Lead Score" that is not valid: it must be a CRM internal property name: letters, digits and underscores, starting with a letter (HubSpot’s in lower case, such as jobtitle; a Salesforce field API name, such as Lead_Score__c)',
    },
    {
      what: 'a bad tier',
      document: { ...MINIMAL, objects: { contacts: { properties: { jobtitle: { enrichment: 'maybe' } } } } },
      issue:
        'objects.contacts.properties.jobtitle.enrichment must be one of auto, approval, two_person, deny; got "maybe"',
    },
    {
      what: 'a bad tier for "*"',
      document: { ...MINIMAL, actions: { send_email: { '*': 'yes' } } },
      issue: 'actions.send_email["*"] must be one of auto, approval, two_person, deny; got "yes"',
    },
    {
      what: 'an unknown role',
      document: { ...MINIMAL, objects: { contacts: { properties: { jobtitle: { robot: 'auto' } } } } },
      issue: 'objects.contacts.properties.jobtitle has unknown field "robot"; check the spelling',
    },
    {
      what: 'an unknown action',
      document: { ...MINIMAL, actions: { make_call: {} } },
      issue: 'actions has unknown field "make_call"; check the spelling',
    },
    {
      what: 'an unknown condition kind',
      document: withCondition({ kind: 'vibes' }),
      issue: 'conditions[0].kind must be one of confidence_below, record_matches, overwrites_non_empty, evidence',
    },
    {
      what: 'a condition that would lower a tier',
      document: withCondition({ kind: 'overwrites_non_empty', raiseTo: 'auto' }),
      issue:
        'conditions[0].raiseTo must be one of approval, two_person, deny (a condition only raises a tier); got "auto"',
    },
    {
      what: 'a threshold above 1',
      document: withCondition({ kind: 'confidence_below', threshold: 1.5 }),
      issue: 'conditions[0].threshold must be at most 1',
    },
    {
      what: 'a threshold that is not a number',
      document: withCondition({ kind: 'confidence_below', threshold: 'high' }),
      issue: 'conditions[0].threshold must be a number; got string "high"',
    },
    {
      what: 'an unknown key in a condition',
      document: withCondition({ kind: 'overwrites_non_empty', objectType: 'contacts' }),
      issue: 'conditions[0] has unknown field "objectType"; check the spelling',
    },
    {
      what: 'a record condition with an unknown op',
      document: withCondition({
        kind: 'record_matches',
        objectType: 'contacts',
        property: 'x',
        op: 'like',
        value: 'a',
      }),
      issue: 'conditions[0].op must be one of eq, neq, in, gt, gte, lt, lte, is_empty, not_empty; got "like"',
    },
    {
      what: 'an eq with no value',
      document: withCondition({ kind: 'record_matches', objectType: 'contacts', property: 'x', op: 'eq' }),
      issue: 'conditions[0].value is required: op "eq" needs a value',
    },
    {
      what: 'an in with no values',
      document: withCondition({ kind: 'record_matches', objectType: 'contacts', property: 'x', op: 'in', value: 'a' }),
      issue: 'conditions[0].values is required: op "in" needs a list of values',
    },
    {
      what: 'a numeric op with a value that is not a number',
      document: withCondition({
        kind: 'record_matches',
        objectType: 'contacts',
        property: 'x',
        op: 'lt',
        value: 'ten',
      }),
      issue: 'conditions[0].value must be a number: op "lt" compares numbers; got "ten"',
    },
    {
      what: 'an evidence rule that checks nothing',
      document: withCondition({ kind: 'evidence' }),
      issue: 'conditions[0] checks nothing: give requireUrl: true or a list of allowedSources',
    },
    {
      what: 'an empty scope list',
      document: withCondition({ kind: 'overwrites_non_empty', roles: [] }),
      issue: 'conditions[0].roles must list at least 1 item',
    },
    {
      what: 'a cap of zero',
      document: { ...MINIMAL, caps: { writesPerAgentPerDay: 0 } },
      issue: 'caps.writesPerAgentPerDay must be greater than 0',
    },
    {
      what: 'a fractional cap',
      document: { ...MINIMAL, caps: { writesPerRecordPerDay: 2.5 } },
      issue: 'caps.writesPerRecordPerDay must be a whole number; got number 2.5',
    },
    {
      what: 'a misspelt cap',
      document: { ...MINIMAL, caps: { writesPerDay: 5 } },
      issue: 'caps has unknown field "writesPerDay"; check the spelling',
    },
    {
      what: 'role caps for an unknown role',
      document: { ...MINIMAL, caps: { roleCaps: { robot: {} } } },
      issue: 'caps.roleCaps has unknown field "robot"; check the spelling',
    },
    {
      what: 'a window day that is not an abbreviation',
      document: { ...MINIMAL, windows: [{ actions: ['send_email'], days: ['monday'], start: '09:00', end: '17:00' }] },
      issue: 'windows[0].days[0] must be one of sun, mon, tue, wed, thu, fri, sat; got "monday"',
    },
    {
      what: 'a window time without a leading zero',
      document: { ...MINIMAL, windows: [{ actions: ['send_email'], days: ['mon'], start: '9:00', end: '17:00' }] },
      issue: 'windows[0].start must be a 24-hour time written HH:MM, such as 09:00',
    },
    {
      what: 'a window at 24:00',
      document: { ...MINIMAL, windows: [{ actions: ['send_email'], days: ['mon'], start: '09:00', end: '24:00' }] },
      issue: 'windows[0].end must be a 24-hour time written HH:MM, such as 09:00',
    },
    {
      what: 'a window for an unknown action',
      document: { ...MINIMAL, windows: [{ actions: ['call'], days: ['mon'], start: '09:00', end: '17:00' }] },
      issue: 'windows[0].actions[0] must be one of field_write, send_email, create_task, create_note; got "call"',
    },
    {
      what: 'a window in an unknown zone',
      document: {
        ...MINIMAL,
        windows: [{ actions: ['send_email'], days: ['mon'], start: '09:00', end: '17:00', timezone: 'EST5' }],
      },
      issue: 'windows[0].timezone must be an IANA time zone such as Europe/Paris or America/New_York',
    },
    {
      what: 'a negative approval expiry',
      document: { ...MINIMAL, approvals: { expiryHours: -1 } },
      issue: 'approvals.expiryHours must be greater than 0',
    },
  ])('refuses $what with a readable issue', ({ document, issue }) => {
    expect(issuesOf(document)).toContain(issue);
  });

  it('reports every problem at once, not only the first', () => {
    expect(issuesOf({ ...MINIMAL, name: '', timezone: 'Nowhere', extra: true })).toHaveLength(3);
  });
});
