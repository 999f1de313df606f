import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditEvents } from '../../server/src/store/schema.ts';
import { emailAction, publishActionTiers, submitAction, testClock } from '../support/actions.ts';
import { createAgent } from '../../server/src/services/governance/index.ts';
import { seedContact } from '../support/approvals.ts';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let clock: ReturnType<typeof testClock>;

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedWorkspace(harness, ['outreach', 'outreach']);
  await publishActionTiers(harness, ws.workspaceId, { send_email: { outreach: 'auto' } });
});
afterEach(() => harness.close());

/** One agent's email to the contact, released and reported sent; returns its id and release token. */
async function sentEmail(token: string, contactId: string, subject: string) {
  const { body } = await submitAction(harness, token, emailAction(contactId, { subject }));
  expect(body).toMatchObject({ status: 'released' });
  const read = await api(harness, 'GET', `/v1/actions/${body.id}`, { token });
  await api(harness, 'POST', `/v1/actions/${body.id}/outcome`, {
    token,
    body: { outcome: 'sent', releaseToken: read.body.releaseToken },
  });
  return { id: body.id as string, releaseToken: read.body.releaseToken as string };
}

async function suppressions(contactId: string) {
  return harness.database.db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.recordId, contactId), eq(auditEvents.type, 'contact.suppressed')));
}

describe('hard bounces and spam complaints suppress the contact for every agent', () => {
  it('a hard bounce one agent reports refuses the other agent’s email, audited once', async () => {
    const contactId = seedContact(harness);
    const first = await submitAction(harness, ws.agents[0]!.token, emailAction(contactId));
    const read = await api(harness, 'GET', `/v1/actions/${first.body.id}`, { token: ws.agents[0]!.token });
    const bounce = {
      outcome: 'bounced',
      bounceType: 'hard',
      detail: '550 no such user',
      releaseToken: read.body.releaseToken,
    };
    const reported = await api(harness, 'POST', `/v1/actions/${first.body.id}/outcome`, {
      token: ws.agents[0]!.token,
      body: bounce,
    });
    expect(reported.body).toMatchObject({ status: 'bounced' });

    const second = await submitAction(harness, ws.agents[1]!.token, emailAction(contactId, { subject: 'Another' }));
    expect(second.body).toMatchObject({ status: 'refused', tier: null, reasons: ['contact_hard_bounced'] });
    const events = await suppressions(contactId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ agentId: ws.agents[0]!.id, reasons: ['contact_hard_bounced'] });
  });

  it('a soft bounce suppresses nothing', async () => {
    const contactId = seedContact(harness);
    const first = await submitAction(harness, ws.agents[0]!.token, emailAction(contactId));
    const read = await api(harness, 'GET', `/v1/actions/${first.body.id}`, { token: ws.agents[0]!.token });
    await api(harness, 'POST', `/v1/actions/${first.body.id}/outcome`, {
      token: ws.agents[0]!.token,
      body: { outcome: 'bounced', bounceType: 'soft', releaseToken: read.body.releaseToken },
    });
    const second = await submitAction(harness, ws.agents[1]!.token, emailAction(contactId, { subject: 'Another' }));
    expect(second.body).toMatchObject({ status: 'released' });
    expect(await suppressions(contactId)).toHaveLength(0);
  });

  it('a spam complaint stops the other agent’s released email and refuses new ones', async () => {
    const contactId = seedContact(harness);
    const waiting = await submitAction(harness, ws.agents[1]!.token, emailAction(contactId, { subject: 'Later' }));
    expect(waiting.body).toMatchObject({ status: 'released' });
    const sent = await sentEmail(ws.agents[0]!.token, contactId, 'First');
    const complaint = await api(harness, 'POST', `/v1/actions/${sent.id}/outcome`, {
      token: ws.agents[0]!.token,
      body: { outcome: 'complained' },
    });
    expect(complaint.status).toBe(200);

    const stopped = await api(harness, 'GET', `/v1/actions/${waiting.body.id}`, { token: ws.agents[1]!.token });
    expect(stopped.body).toMatchObject({ status: 'stopped', reasons: ['tier_auto', 'contact_complained'] });
    const again = await submitAction(harness, ws.agents[1]!.token, emailAction(contactId, { subject: 'Again' }));
    expect(again.body).toMatchObject({ status: 'refused', reasons: ['contact_complained'] });
  });

  it('a hard bounce the CRM noted on the contact refuses the email', async () => {
    const contactId = seedContact(harness, { hs_email_hard_bounce_reason_enum: 'UNKNOWN_USER' });
    const refused = await submitAction(harness, ws.agents[0]!.token, emailAction(contactId));
    expect(refused.body).toMatchObject({ status: 'refused', reasons: ['contact_hard_bounced'] });
  });

  it('refuses a bounce type on any outcome but bounced', async () => {
    const contactId = seedContact(harness);
    const sent = await sentEmail(ws.agents[0]!.token, contactId, 'First');
    const bad = await api(harness, 'POST', `/v1/actions/${sent.id}/outcome`, {
      token: ws.agents[0]!.token,
      body: { outcome: 'replied', bounceType: 'hard' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('suppression on the record card', () => {
  it('shows why no agent may email the contact, with the email and agent that reported it', async () => {
    const app = await seedAppWorkspace(harness, { '501': 'approver' });
    const agent = await createAgent(harness.deps, app.workspaceId, { name: 'sequencer', role: 'outreach' }, ADMIN);
    await publishActionTiers(harness, app.workspaceId, { send_email: { outreach: 'auto' } });
    const contactId = seedContact(harness);
    const card = () =>
      callAsHubSpot(harness, {
        path: `/card?objectType=contacts&recordId=${contactId}`,
        portalId: app.portalId,
        userId: '501',
        clientSecret: app.clientSecret,
        // Signed at the test's clock, which the server checks the signature's age against.
        timestamp: clock.now().getTime(),
      });
    const before = await card();
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    expect(before.body.emailStops).toEqual([]);
    const { body } = await submitAction(harness, agent.token, emailAction(contactId));
    const read = await api(harness, 'GET', `/v1/actions/${body.id}`, { token: agent.token });
    await api(harness, 'POST', `/v1/actions/${body.id}/outcome`, {
      token: agent.token,
      body: { outcome: 'bounced', bounceType: 'hard', releaseToken: read.body.releaseToken },
    });
    expect((await card()).body.emailStops).toEqual([
      {
        reason: 'contact_hard_bounced',
        at: expect.any(String),
        actionId: body.id,
        agent: { id: agent.id, name: 'sequencer' },
      },
    ]);
  });
});
