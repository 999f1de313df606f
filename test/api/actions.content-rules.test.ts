import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { usageCounters } from '../../server/src/store/schema.ts';
import { verifyAudit } from '../../server/src/services/governance/index.ts';
import { actionEvents, emailAction, publishActionTiers, submitAction, testClock } from '../support/actions.ts';
import { seedContact } from '../support/approvals.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
const agentToken = () => ws.agents[0]!.token;

const CONTENT = [
  { name: 'No guarantees', kind: 'banned', phrases: ['guaranteed results', 'risk-free'], raiseTo: 'deny' },
  { name: 'No pricing claims', kind: 'banned', patterns: ['\\b[0-9]{1,3}% (?:off|discount)\\b'], raiseTo: 'approval' },
  { name: 'Unsubscribe line', kind: 'required', phrases: ['unsubscribe'], actions: ['send_email'], raiseTo: 'deny' },
  { name: 'Personalisation', kind: 'personalisation', allowedFields: ['firstname', 'company'], raiseTo: 'approval' },
];

beforeEach(async () => {
  harness = await startHarness({ clock: testClock().now });
  ws = await seedWorkspace(harness, ['outreach']);
  await publishActionTiers(harness, ws.workspaceId, { send_email: { outreach: 'auto' } }, { content: CONTENT });
});
afterEach(() => harness.close());

const FOOTER = '\n\nReply STOP or unsubscribe here.';

describe('content rules for drafts', () => {
  it('releases a draft that passes every rule', async () => {
    const res = await submitAction(
      harness,
      agentToken(),
      emailAction(seedContact(harness), { body: `Hi {{firstname}}, the sheet for {{ company }}.${FOOTER}` }),
    );
    expect(res.body).toMatchObject({ status: 'released', tier: 'auto', reasons: ['tier_auto'], message: null });
  });

  it('refuses banned claims and names the matched text, whatever its case and spacing', async () => {
    const contactId = seedContact(harness);
    const res = await submitAction(
      harness,
      agentToken(),
      emailAction(contactId, { subject: 'GUARANTEED   results', body: `Try it.${FOOTER}` }),
    );
    expect(res.body).toMatchObject({ status: 'refused', tier: 'deny', reasons: ['tier_auto', 'content_banned'] });
    expect(res.body.message).toBe('Content rule "No guarantees": banned text "GUARANTEED   results" in subject.');
    const events = await actionEvents(harness, contactId);
    expect(events.find((event) => event.type === 'action.submitted')!.data).toMatchObject({
      contentFindings: [
        { rule: 'No guarantees', reason: 'content_banned', text: 'GUARANTEED   results', field: 'subject' },
      ],
    });
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('holds a pricing claim matched by a pattern and a merge field the policy does not allow', async () => {
    const res = await submitAction(
      harness,
      agentToken(),
      emailAction(seedContact(harness), { body: `Hi {{lastname}}, 20% off this week.${FOOTER}` }),
    );
    expect(res.body).toMatchObject({
      status: 'pending',
      tier: 'approval',
      reasons: ['tier_auto', 'content_banned', 'content_personalisation_not_allowed'],
    });
    expect(res.body.message).toContain('banned text "20% off" in body');
    expect(res.body.message).toContain('merge field not allowed "{{lastname}}" in body');
  });

  it('refuses an email without its required unsubscribe line', async () => {
    const res = await submitAction(harness, agentToken(), emailAction(seedContact(harness), { body: 'Hi.' }));
    expect(res.body).toMatchObject({ status: 'refused', reasons: ['tier_auto', 'content_required_missing'] });
    // Refused, it is not sent, so it takes nothing from the recipient domain's daily count.
    const counted = await harness.database.db
      .select()
      .from(usageCounters)
      .where(and(eq(usageCounters.workspaceId, ws.workspaceId), eq(usageCounters.scope, 'domain_sends')));
    expect(counted).toEqual([]);
    expect(res.body.message).toBe('Content rule "Unsubscribe line": none of "unsubscribe" is present.');
  });

  it('refuses to publish a pattern RE2 cannot run in linear time, saying why', async () => {
    const res = await api(harness, 'POST', '/v1/admin/policies', {
      token: ws.adminToken,
      body: {
        ...(await api(harness, 'GET', '/v1/admin/policies/active', { token: ws.adminToken })).body.document,
        content: [{ name: 'Backref', kind: 'banned', patterns: ['(a+)\\1'], raiseTo: 'deny' }],
      },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('is not a regular expression RE2 accepts');
  });
});
