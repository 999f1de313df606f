import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emailAction, publishActionTiers, submitAction, testClock } from '../support/actions.ts';
import { seedContact } from '../support/approvals.ts';
import { seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let clock: ReturnType<typeof testClock>;

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedWorkspace(harness, ['outreach', 'outreach']);
  await publishActionTiers(
    harness,
    ws.workspaceId,
    { send_email: { outreach: 'auto' } },
    { caps: { sendsPerRecipientDomainPerDay: 50, sendsPerContactPerDay: 1 } },
  );
});
afterEach(() => harness.close());

describe('the daily email cap per contact, across agents', () => {
  it('refuses a second agent’s email to a contact one agent already emailed today, and not another contact', async () => {
    const contactId = seedContact(harness);
    const first = await submitAction(harness, ws.agents[0]!.token, emailAction(contactId));
    expect(first.body).toMatchObject({ status: 'released' });
    const second = await submitAction(harness, ws.agents[1]!.token, emailAction(contactId, { subject: 'Another' }));
    expect(second.body).toMatchObject({
      status: 'refused',
      tier: 'deny',
      reasons: ['tier_auto', 'cap_contact_daily_sends_reached'],
    });
    const other = seedContact(harness, { email: 'grace@example.com' });
    const third = await submitAction(harness, ws.agents[1]!.token, emailAction(other, { to: 'grace@example.com' }));
    expect(third.body).toMatchObject({ status: 'released' });
  });
});

describe('the email caps per account, across agents', () => {
  it('counts every contact of one company against its daily cap, and not another company’s', async () => {
    await publishActionTiers(
      harness,
      ws.workspaceId,
      { send_email: { outreach: 'auto' } },
      { caps: { sendsPerRecipientDomainPerDay: 50, sendsPerAccountPerDay: 2 } },
    );
    const ada = seedContact(harness, { associatedcompanyid: '501' });
    const grace = seedContact(harness, { email: 'grace@example.com', associatedcompanyid: '501' });
    const alan = seedContact(harness, { email: 'alan@example.com', associatedcompanyid: '501' });
    const other = seedContact(harness, { email: 'edsger@example.com', associatedcompanyid: '502' });
    expect((await submitAction(harness, ws.agents[0]!.token, emailAction(ada))).body.status).toBe('released');
    const second = await submitAction(harness, ws.agents[1]!.token, emailAction(grace, { to: 'grace@example.com' }));
    expect(second.body.status).toBe('released');
    const third = await submitAction(harness, ws.agents[0]!.token, emailAction(alan, { to: 'alan@example.com' }));
    expect(third.body).toMatchObject({ status: 'refused', reasons: ['tier_auto', 'cap_account_daily_sends_reached'] });
    const elsewhere = await submitAction(
      harness,
      ws.agents[0]!.token,
      emailAction(other, { to: 'edsger@example.com' }),
    );
    expect(elsewhere.body.status).toBe('released');
  });

  it('holds the weekly cap across the days of one week and starts again on Monday', async () => {
    await publishActionTiers(
      harness,
      ws.workspaceId,
      { send_email: { outreach: 'auto' } },
      { caps: { sendsPerRecipientDomainPerDay: 50, sendsPerAccountPerWeek: 1 }, windows: [] },
    );
    const ada = seedContact(harness, { associatedcompanyid: '501' });
    const grace = seedContact(harness, { email: 'grace@example.com', associatedcompanyid: '501' });
    expect((await submitAction(harness, ws.agents[0]!.token, emailAction(ada))).body.status).toBe('released');
    clock.advanceHours(24); // Thursday
    const thursday = await submitAction(harness, ws.agents[1]!.token, emailAction(grace, { to: 'grace@example.com' }));
    expect(thursday.body).toMatchObject({ reasons: ['tier_auto', 'cap_account_weekly_sends_reached'] });
    clock.advanceHours(24 * 4); // Monday
    const monday = await submitAction(harness, ws.agents[1]!.token, emailAction(grace, { to: 'grace@example.com' }));
    expect(monday.body.status).toBe('released');
  });
});

describe('the gap between two agents’ emails to one person', () => {
  it('refuses another agent inside the gap, naming the first agent’s email, but not the same agent', async () => {
    await publishActionTiers(
      harness,
      ws.workspaceId,
      { send_email: { outreach: 'auto' } },
      { touches: { minHoursBetweenAgents: 48 }, windows: [] },
    );
    const contactId = seedContact(harness);
    const first = await submitAction(harness, ws.agents[0]!.token, emailAction(contactId));
    expect(first.body.status).toBe('released');
    clock.advanceHours(1);
    const again = await submitAction(harness, ws.agents[0]!.token, emailAction(contactId, { subject: 'Follow-up' }));
    expect(again.body.status).toBe('released');

    clock.advanceHours(24);
    const other = await submitAction(harness, ws.agents[1]!.token, emailAction(contactId, { subject: 'Hello' }));
    expect(other.body).toMatchObject({ status: 'refused', reasons: ['tier_auto', 'contact_recently_touched'] });
    expect(other.body.message).toContain(again.body.id);
    expect(other.body.message).toContain('Agent outreach-agent already emailed this contact');

    clock.advanceHours(25);
    const later = await submitAction(harness, ws.agents[1]!.token, emailAction(contactId, { subject: 'Hello' }));
    expect(later.body.status).toBe('released');
  });
});
