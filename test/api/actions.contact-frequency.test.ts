import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emailAction, publishActionTiers, submitAction, testClock } from '../support/actions.ts';
import { seedContact } from '../support/approvals.ts';
import { seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  harness = await startHarness({ clock: testClock().now });
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
