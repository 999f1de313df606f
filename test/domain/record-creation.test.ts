import { describe, expect, it } from 'vitest';
import { parsePolicy, type Policy } from '../../shared/policy.ts';
import {
  contactKey,
  domainOfWebsite,
  evaluateCreates,
  findDuplicates,
  normaliseName,
} from '../../server/src/domain/record-creation.ts';

describe('the duplicate check', () => {
  it('normalises names and company domains so case, accents, spaces and www do not tell records apart', () => {
    expect(normaliseName('  Zoë   O’Brien ')).toBe('zoe o’brien');
    expect(domainOfWebsite('https://www.Acme.com/about')).toBe('acme.com');
    expect(domainOfWebsite('acme.com')).toBe('acme.com');
    expect(domainOfWebsite('not a host')).toBeNull();
    expect(contactKey({ firstname: 'Ada', lastname: 'Lovelace', website: 'www.analytical.io' })).toEqual({
      email: null,
      name: 'ada lovelace',
      lastName: 'lovelace',
      domain: 'analytical.io',
    });
    expect(contactKey({ email: 'sam@gmail.com', lastname: 'Smith' }).domain).toBeNull();
  });

  it('names the oldest matching record whatever order the CRM listed them in, email first', () => {
    const existing = [
      { id: '900', email: 'ada@analytical.io', firstName: null, lastName: null, emailDomain: 'analytical.io' },
      { id: '12', email: 'ADA@analytical.io', firstName: null, lastName: null, emailDomain: 'analytical.io' },
      { id: '5', email: 'a.l@analytical.io', firstName: 'Ada', lastName: 'Lovelace', emailDomain: 'analytical.io' },
    ];
    const found = findDuplicates(
      [
        contactKey({ email: 'Ada@analytical.io', firstname: 'Ada', lastname: 'Lovelace' }),
        contactKey({ email: 'ada.l@analytical.io', firstname: 'ada', lastname: 'LOVELACE' }),
        contactKey({ email: 'other@analytical.io', firstname: 'Ada', lastname: 'Byron' }),
        contactKey({ email: 'OTHER@analytical.io' }),
      ],
      existing,
    );
    expect(found).toEqual([{ recordId: '12' }, { recordId: '5' }, undefined, { entry: 2 }]);
  });
});

function policyWith(contacts: object, caps: object = {}): Policy {
  const parsed = parsePolicy({ name: 'p', timezone: 'UTC', objects: { contacts }, caps });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.policy;
}

const evidence = { source: 's', reason: 'r', confidence: 0.9 };

describe('deciding a creation', () => {
  const base = { agentRole: 'prospecting' as const, objectType: 'contacts' as const, createsToday: 0, now: new Date() };

  it('takes the strictest of the create tier and its properties’ tiers, and raises a duplicate to onDuplicate', () => {
    const policy = policyWith({
      properties: { email: { prospecting: 'auto' }, phone: { prospecting: 'approval' } },
      create: { prospecting: 'auto' },
      onDuplicate: 'two_person',
    });
    const { evaluations, added } = evaluateCreates({
      ...base,
      policy,
      entries: [
        { properties: { email: 'a@b.io' }, evidence },
        { properties: { email: 'c@d.io', phone: '1' }, evidence },
        { properties: { email: 'e@f.io' }, evidence },
      ],
      duplicates: [undefined, undefined, { recordId: '7' }],
    });
    expect(evaluations.map(({ tier, reasons }) => ({ tier, reasons }))).toEqual([
      { tier: 'auto', reasons: ['tier_auto'] },
      { tier: 'approval', reasons: ['tier_auto'] },
      { tier: 'two_person', reasons: ['tier_auto', 'duplicate_of'] },
    ]);
    expect(added).toBe(3);
  });

  it('decides a new record’s properties on their empty values, even those the read rules hide', () => {
    const result = parsePolicy({
      name: 'p',
      timezone: 'UTC',
      objects: {
        contacts: {
          properties: { email: { prospecting: 'auto' } },
          create: { prospecting: 'auto' },
          read: { firstname: { '*': 'full' } },
        },
      },
      conditions: [{ kind: 'overwrites_non_empty', raiseTo: 'approval' }],
    });
    if (!result.ok) throw new Error(result.issues.join('; '));
    // email is withheld from reads, and a creation overwrites nothing.
    const entries = [{ properties: { email: 'a@b.io' }, evidence }];
    const { evaluations } = evaluateCreates({ ...base, policy: result.policy, entries, duplicates: [undefined] });
    expect(evaluations[0]).toMatchObject({ tier: 'auto', reasons: ['tier_auto'] });
  });

  it('denies by default, and past the daily creation cap', () => {
    const policy = policyWith(
      { properties: { email: { prospecting: 'auto' } }, create: { prospecting: 'auto' } },
      { createsPerAgentPerDay: 3 },
    );
    const entries = [{ properties: { email: 'a@b.io' }, evidence }];
    const outreach = evaluateCreates({ ...base, agentRole: 'outreach', policy, entries, duplicates: [undefined] });
    expect(outreach.evaluations[0]).toMatchObject({ tier: 'deny', reasons: ['field_not_allowed'] });
    const capped = evaluateCreates({ ...base, createsToday: 3, policy, entries, duplicates: [undefined] });
    expect(capped.evaluations[0]).toMatchObject({
      tier: 'deny',
      reasons: ['tier_auto', 'cap_agent_daily_creates_reached'],
    });
    expect(capped.added).toBe(0);
  });
});
