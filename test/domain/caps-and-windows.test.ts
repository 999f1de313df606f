import { describe, expect, it } from 'vitest';
import type { AgentRole } from '../../shared/crm-names.ts';
import type { PolicyInput, RoleTiers, TimeWindow } from '../../shared/policy.ts';
import { dayKey, evaluateChangeSet, evaluateSend, type FieldWrite } from '../../server/src/domain/policy-evaluation.ts';
import { WEDNESDAY_MORNING_NY, evaluateOne, fieldWrite, policyOf } from './policy-fixtures.ts';

const OPEN_TO_ALL: RoleTiers = { '*': 'auto' };
const contactsPolicy = (parts: Partial<PolicyInput> = {}) =>
  policyOf({
    objects: { contacts: { properties: { jobtitle: OPEN_TO_ALL, city: { '*': 'approval' }, firstname: {} } } },
    ...parts,
  });

function evaluateWrites(input: {
  parts: Partial<PolicyInput>;
  writes: FieldWrite[];
  role?: AgentRole;
  agentWritesToday?: number;
  recordWritesToday?: Record<string, number>;
  current?: Record<string, string>;
}) {
  return evaluateChangeSet({
    policy: contactsPolicy(input.parts),
    agentRole: input.role ?? 'enrichment',
    objectType: 'contacts',
    writes: input.writes,
    records: new Map(input.writes.map((write) => [write.recordId, input.current ?? {}])),
    usage: {
      agentWritesToday: input.agentWritesToday ?? 0,
      recordWritesToday: new Map(Object.entries(input.recordWritesToday ?? {})),
    },
    now: WEDNESDAY_MORNING_NY,
  });
}

const onRecords = (...recordIds: string[]) => recordIds.map((recordId) => fieldWrite({ recordId }));
const tiersOf = (result: ReturnType<typeof evaluateWrites>) => result.evaluations.map((evaluation) => evaluation.tier);

describe('the daily write caps', () => {
  it.each([
    { usedToday: 0, writes: 3, allowed: 3 },
    { usedToday: 0, writes: 4, allowed: 3 },
    { usedToday: 2, writes: 1, allowed: 1 },
    { usedToday: 2, writes: 2, allowed: 1 },
    { usedToday: 3, writes: 1, allowed: 0 },
  ])(
    'lets an agent that wrote $usedToday of 3 today make $allowed of $writes more writes',
    ({ usedToday, writes, allowed }) => {
      const result = evaluateWrites({
        parts: { caps: { writesPerAgentPerDay: 3 } },
        writes: onRecords(...Array.from({ length: writes }, (_, i) => String(i + 1))),
        agentWritesToday: usedToday,
      });
      expect(tiersOf(result)).toEqual([...Array(allowed).fill('auto'), ...Array(writes - allowed).fill('deny')]);
      expect(
        result.evaluations
          .slice(allowed)
          .every((evaluation) => evaluation.reasons.at(-1) === 'cap_agent_daily_writes_reached'),
      ).toBe(true);
      expect(result.added.agentWrites).toBe(allowed);
    },
  );

  it.each([
    { usedToday: 0, allowed: 2 },
    { usedToday: 1, allowed: 1 },
    { usedToday: 2, allowed: 0 },
  ])(
    'lets a record written $usedToday times today by any agent take $allowed of 3 more writes under a cap of 2',
    ({ usedToday, allowed }) => {
      const writes = [
        fieldWrite({ recordId: '7' }),
        fieldWrite({ recordId: '7', property: 'city' }),
        fieldWrite({ recordId: '7', proposedValue: 'CEO' }),
      ];
      const result = evaluateWrites({
        parts: { caps: { writesPerRecordPerDay: 2 } },
        writes,
        recordWritesToday: { '7': usedToday },
      });
      expect(
        result.evaluations.map((evaluation) => evaluation.reasons.includes('cap_record_daily_writes_reached')),
      ).toEqual([0, 1, 2].map((index) => index >= allowed));
      expect(result.added.recordWrites.get('7') ?? 0).toBe(allowed);
    },
  );

  it('counts each record on its own', () => {
    const result = evaluateWrites({
      parts: { caps: { writesPerRecordPerDay: 1 } },
      writes: onRecords('1', '1', '2'),
      recordWritesToday: { '2': 0 },
    });
    expect(tiersOf(result)).toEqual(['auto', 'deny', 'auto']);
    expect(result.added).toEqual({
      agentWrites: 2,
      recordWrites: new Map([
        ['1', 1],
        ['2', 1],
      ]),
    });
  });

  it.each<{ role: AgentRole; allowed: number }>([
    { role: 'enrichment', allowed: 1 },
    { role: 'prospecting', allowed: 3 },
  ])(
    'applies the per-role override of the agent cap to $role, which may make $allowed of 4 writes',
    ({ role, allowed }) => {
      const caps = { writesPerAgentPerDay: 3, roleCaps: { enrichment: { writesPerAgentPerDay: 1 } } };
      const result = evaluateWrites({ parts: { caps }, role, writes: onRecords('1', '2', '3', '4') });
      expect(result.added.agentWrites).toBe(allowed);
    },
  );

  it('keeps the policy-wide record cap for a role whose override names only the agent cap', () => {
    const caps = { writesPerRecordPerDay: 1, roleCaps: { enrichment: { writesPerAgentPerDay: 100 } } };
    expect(tiersOf(evaluateWrites({ parts: { caps }, writes: onRecords('1', '1') }))).toEqual(['auto', 'deny']);
  });

  it('applies a per-role override of the record cap to that role only', () => {
    const caps = { writesPerRecordPerDay: 5, roleCaps: { routing: { writesPerRecordPerDay: 1 } } };
    expect(tiersOf(evaluateWrites({ parts: { caps }, role: 'routing', writes: onRecords('1', '1') }))).toEqual([
      'auto',
      'deny',
    ]);
    expect(tiersOf(evaluateWrites({ parts: { caps }, role: 'enrichment', writes: onRecords('1', '1') }))).toEqual([
      'auto',
      'auto',
    ]);
  });

  it('counts held writes but not denied or unchanged ones', () => {
    const writes = [
      fieldWrite({ recordId: '1', property: 'firstname' }),
      fieldWrite({ recordId: '1', proposedValue: 'Same' }),
      fieldWrite({ recordId: '1', property: 'city', proposedValue: 'Paris' }),
      fieldWrite({ recordId: '2' }),
    ];
    const result = evaluateWrites({
      parts: { caps: { writesPerAgentPerDay: 1 } },
      writes,
      current: { jobtitle: 'Same' },
    });
    expect(result.evaluations).toEqual([
      { tier: 'deny', reasons: ['field_not_allowed'] },
      { tier: 'auto', reasons: ['tier_auto', 'value_unchanged'] },
      { tier: 'approval', reasons: ['tier_approval'] },
      { tier: 'deny', reasons: ['tier_auto', 'cap_agent_daily_writes_reached'] },
    ]);
    expect(result.added).toEqual({ agentWrites: 1, recordWrites: new Map([['1', 1]]) });
  });
});

describe('the daily send cap per recipient domain', () => {
  const sendPolicy = (caps: PolicyInput['caps']) =>
    policyOf({ actions: { send_email: { outreach: 'approval', prospecting: 'auto' } }, caps });
  const send = (input: {
    email: string;
    sentToday: Record<string, number>;
    role?: AgentRole;
    caps?: PolicyInput['caps'];
  }) =>
    evaluateSend({
      policy: sendPolicy(input.caps ?? { sendsPerRecipientDomainPerDay: 2 }),
      agentRole: input.role ?? 'outreach',
      recipientEmail: input.email,
      usage: { domainSendsToday: new Map(Object.entries(input.sentToday)) },
      now: WEDNESDAY_MORNING_NY,
    });

  it.each<{ email: string; sentToday: Record<string, number>; tier: string }>([
    { email: 'ada@example.com', sentToday: {}, tier: 'approval' },
    { email: 'ada@example.com', sentToday: { 'example.com': 1 }, tier: 'approval' },
    { email: 'ada@example.com', sentToday: { 'example.com': 2 }, tier: 'deny' },
    { email: 'Ada@Example.COM', sentToday: { 'example.com': 2 }, tier: 'deny' },
    { email: 'ada@other.example', sentToday: { 'example.com': 2 }, tier: 'approval' },
  ])('decides $tier for a send to $email after $sentToday today under a cap of 2', ({ email, sentToday, tier }) => {
    const evaluation = send({ email, sentToday });
    expect(evaluation.tier).toBe(tier);
    expect(evaluation.reasons).toEqual(
      tier === 'deny' ? ['tier_approval', 'cap_domain_daily_sends_reached'] : ['tier_approval'],
    );
    expect(evaluation.countsTowardCap).toBe(tier !== 'deny');
  });

  it('keys the counter by the lower-cased domain', () => {
    expect(send({ email: 'Ada@Example.COM', sentToday: {} }).recipientDomain).toBe('example.com');
  });

  it('applies the per-role override of the send cap', () => {
    const caps = { sendsPerRecipientDomainPerDay: 10, roleCaps: { prospecting: { sendsPerRecipientDomainPerDay: 1 } } };
    expect(send({ email: 'a@example.com', sentToday: { 'example.com': 1 }, role: 'prospecting', caps }).tier).toBe(
      'deny',
    );
    expect(send({ email: 'a@example.com', sentToday: { 'example.com': 1 }, role: 'outreach', caps }).tier).toBe(
      'approval',
    );
  });

  it.each<{ tiers: RoleTiers | undefined; role: AgentRole; expected: { tier: string; reasons: string[] } }>([
    { tiers: { outreach: 'approval' }, role: 'outreach', expected: { tier: 'approval', reasons: ['tier_approval'] } },
    {
      tiers: { outreach: 'approval', '*': 'two_person' },
      role: 'prospecting',
      expected: { tier: 'two_person', reasons: ['tier_two_person'] },
    },
    { tiers: { outreach: 'deny' }, role: 'outreach', expected: { tier: 'deny', reasons: ['tier_deny'] } },
    { tiers: { outreach: 'approval' }, role: 'enrichment', expected: { tier: 'deny', reasons: ['field_not_allowed'] } },
    { tiers: undefined, role: 'outreach', expected: { tier: 'deny', reasons: ['field_not_allowed'] } },
  ])('gives a send by $role under send_email tiers $tiers the tier $expected.tier', ({ tiers, role, expected }) => {
    const policy = policyOf(tiers ? { actions: { send_email: tiers } } : {});
    const evaluation = evaluateSend({
      policy,
      agentRole: role,
      recipientEmail: 'a@example.com',
      usage: { domainSendsToday: new Map() },
      now: WEDNESDAY_MORNING_NY,
    });
    expect(evaluation).toMatchObject(expected);
  });
});

describe('time windows', () => {
  const office: TimeWindow = {
    actions: ['field_write'],
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    start: '09:00',
    end: '17:00',
    timezone: 'America/New_York',
  };
  const fridayNight: TimeWindow = {
    actions: ['field_write'],
    days: ['fri'],
    start: '22:00',
    end: '02:00',
    timezone: 'America/New_York',
  };
  const writeAt = (windows: TimeWindow[], at: string, role: AgentRole = 'enrichment') =>
    evaluateOne({ policy: contactsPolicy({ windows }), role, now: new Date(at) });

  it.each([
    { at: '2026-01-07T21:30:00Z', when: 'Wednesday 16:30 in New York, 21:30 UTC', inside: true },
    { at: '2026-01-07T13:30:00Z', when: 'Wednesday 08:30 in New York, 13:30 UTC', inside: false },
    { at: '2026-01-07T14:00:00Z', when: 'Wednesday 09:00 in New York, the start', inside: true },
    { at: '2026-01-07T22:00:00Z', when: 'Wednesday 17:00 in New York, the end', inside: false },
    { at: '2026-07-08T13:30:00Z', when: 'Wednesday 09:30 in New York in summer time', inside: true },
    { at: '2026-01-09T21:30:00Z', when: 'Friday 16:30 in New York, Friday in UTC too', inside: true },
    { at: '2026-01-10T02:30:00Z', when: 'Friday 21:30 in New York, Saturday in UTC', inside: false },
    { at: '2026-01-10T15:00:00Z', when: 'Saturday 10:00 in New York', inside: false },
    { at: '2026-01-12T03:00:00Z', when: 'Sunday 22:00 in New York, Monday in UTC', inside: false },
  ])('a 09:00-17:00 weekday window in New York lets a write through on $when: $inside', ({ at, inside }) => {
    expect(writeAt([office], at)).toEqual(
      inside
        ? { tier: 'auto', reasons: ['tier_auto'] }
        : { tier: 'deny', reasons: ['tier_auto', 'outside_time_window'] },
    );
  });

  it.each([
    { at: '2026-01-10T03:00:00Z', when: 'Friday 22:00, the start', inside: true },
    { at: '2026-01-10T04:00:00Z', when: 'Friday 23:00', inside: true },
    { at: '2026-01-10T06:30:00Z', when: 'Saturday 01:30, after midnight', inside: true },
    { at: '2026-01-10T07:00:00Z', when: 'Saturday 02:00, the end', inside: false },
    { at: '2026-01-10T02:59:00Z', when: 'Friday 21:59', inside: false },
    { at: '2026-01-09T06:00:00Z', when: 'Friday 01:00, the night of Thursday', inside: false },
    { at: '2026-01-11T04:00:00Z', when: 'Saturday 23:00', inside: false },
  ])(
    'a Friday 22:00-02:00 window across midnight lets a write through on $when in New York: $inside',
    ({ at, inside }) => {
      expect(writeAt([fridayNight], at).tier).toBe(inside ? 'auto' : 'deny');
    },
  );

  it.each([
    { days: ['sun' as const], at: '2026-01-12T05:00:00Z', when: 'Monday 05:00 UTC, the night of Sunday', inside: true },
    {
      days: ['sat' as const],
      at: '2026-01-11T03:00:00Z',
      when: 'Sunday 03:00 UTC, the night of Saturday',
      inside: true,
    },
    {
      days: ['sat' as const],
      at: '2026-01-12T03:00:00Z',
      when: 'Monday 03:00 UTC, the night of Sunday',
      inside: false,
    },
  ])('a 22:00-06:00 night window on $days wraps around the week: $when is inside: $inside', ({ days, at, inside }) => {
    const night: TimeWindow = { actions: ['field_write'], days, start: '22:00', end: '06:00' };
    expect(writeAt([night], at).tier).toBe(inside ? 'auto' : 'deny');
  });

  it('reads a window without a zone on the clock of the policy zone', () => {
    const policy = contactsPolicy({ timezone: 'America/New_York', windows: [{ ...office, timezone: undefined }] });
    expect(evaluateOne({ policy, now: new Date('2026-01-07T21:30:00Z') }).tier).toBe('auto');
  });

  it.each<{ what: string; windows: TimeWindow[]; role: AgentRole; tier: string }>([
    {
      what: 'inside any one of several windows',
      windows: [office, { ...office, days: ['sat'], start: '10:00', end: '12:00' }],
      role: 'enrichment',
      tier: 'auto',
    },
    {
      what: 'governed only by a window for other roles',
      windows: [{ ...office, roles: ['outreach'], days: ['mon'] }],
      role: 'enrichment',
      tier: 'auto',
    },
    {
      what: 'governed by a window for its own role',
      windows: [{ ...office, roles: ['enrichment'], days: ['mon'] }],
      role: 'enrichment',
      tier: 'deny',
    },
    {
      what: 'governed only by a window for sending',
      windows: [{ ...office, actions: ['send_email'], days: ['mon'] }],
      role: 'enrichment',
      tier: 'auto',
    },
  ])('decides $tier for a write on Saturday 10:30 in New York $what', ({ windows, role, tier }) => {
    expect(writeAt(windows, '2026-01-10T15:30:00Z', role).tier).toBe(tier);
  });

  it('leaves a denied write with its own reason when it is also outside the window', () => {
    expect(
      evaluateOne({
        policy: contactsPolicy({ windows: [{ ...office, days: ['mon'] }] }),
        write: { property: 'firstname' },
      }),
    ).toEqual({ tier: 'deny', reasons: ['field_not_allowed'] });
  });

  it.each([
    { at: '2026-01-07T15:00:00Z', tier: 'approval', reasons: ['tier_approval'] },
    { at: '2026-01-10T15:00:00Z', tier: 'deny', reasons: ['tier_approval', 'outside_time_window'] },
  ])('holds or refuses a send at $at by the outreach weekday window', ({ at, tier, reasons }) => {
    const policy = policyOf({
      actions: { send_email: { outreach: 'approval' } },
      windows: [{ ...office, actions: ['send_email'] }],
    });
    expect(
      evaluateSend({
        policy,
        agentRole: 'outreach',
        recipientEmail: 'a@example.com',
        usage: { domainSendsToday: new Map() },
        now: new Date(at),
      }),
    ).toMatchObject({ tier, reasons });
  });
});

describe('dayKey', () => {
  it.each([
    { at: '2026-01-08T03:00:00Z', zone: 'America/New_York', day: '2026-01-07' },
    { at: '2026-01-08T03:00:00Z', zone: 'UTC', day: '2026-01-08' },
    { at: '2026-01-07T16:00:00Z', zone: 'Asia/Tokyo', day: '2026-01-08' },
    { at: '2026-03-31T23:30:00Z', zone: 'Europe/Paris', day: '2026-04-01' },
  ])('names $at as the calendar day $day in $zone', ({ at, zone, day }) => {
    expect(dayKey(new Date(at), zone)).toBe(day);
  });
});
