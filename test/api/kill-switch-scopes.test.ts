import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CrmPort } from '../../server/src/crm/port.ts';
import { recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { bootstrapWorkspace, publishPolicy, setKillSwitch } from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { emailAction, submitAction, testClock } from '../support/actions.ts';
import { ADMIN, EXAMPLE_POLICY, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  harness = await startHarness({ clock: testClock().now });
  ws = await seedWorkspace(harness, ['enrichment', 'outreach']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  // Emails go out without a person, so a refusal is the switch's and nothing else's.
  const policy = structuredClone(EXAMPLE_POLICY) as { actions: Record<string, unknown> };
  await publishPolicy(
    harness.deps,
    ws.workspaceId,
    { ...policy, actions: { ...policy.actions, send_email: { outreach: 'auto' }, create_note: { outreach: 'auto' } } },
    ADMIN,
  );
});
afterEach(() => harness.close());

const enrichment = () => ws.agents[0]!.token;
const outreach = () => ws.agents[1]!.token;
const engage = (change: Record<string, unknown>, engaged = true) =>
  api(harness, 'PUT', '/v1/admin/kill-switches', {
    token: ws.adminToken,
    body: { ...change, engaged, reason: 'bad data from a provider' },
  });
const contact = (properties: Record<string, string> = {}) =>
  seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'x@example.com', ...properties } });
const titleChange = (recordId: string, source = 'apollo') => ({
  recordId,
  properties: { jobtitle: 'CTO' },
  evidence: { source, reason: 'profile says so', confidence: 0.9 },
});
const submit = (changes: unknown[]) =>
  api(harness, 'POST', '/v1/changesets', {
    token: enrichment(),
    body: { batchId: 'b', objectType: 'contacts', changes },
  });
const decisionOf = (body: { results: { recordId: string; decision: string }[] }, recordId: string) =>
  body.results.find((result) => result.recordId === recordId)?.decision;

describe('scoped kill switches', () => {
  it('an evidence-source switch refuses only the writes that cite that source, naming the switch', async () => {
    const [fromApollo, fromClearbit] = [contact(), contact()];
    expect((await engage({ scope: 'evidence_source', target: 'Apollo' })).body).toMatchObject({
      scope: 'evidence_source',
      target: 'apollo',
      engaged: true,
    });
    const res = await submit([titleChange(fromApollo, 'apollo '), titleChange(fromClearbit, 'clearbit')]);
    expect(res.status).toBe(201);
    expect(decisionOf(res.body, fromApollo)).toBe('denied');
    expect(decisionOf(res.body, fromClearbit)).toBe('applied');
    const refused = res.body.results.find((r: { recordId: string }) => r.recordId === fromApollo);
    expect(refused.reasons).toEqual(['kill_switch_engaged']);
    expect(refused.message).toContain('evidence_source apollo');
    expect(recordValues(harness.hubspot.state, 'contacts', fromApollo!)?.jobtitle).toBeUndefined();
    expect(recordValues(harness.hubspot.state, 'contacts', fromClearbit!)?.jobtitle).toBe('CTO');

    await engage({ scope: 'evidence_source', target: 'apollo' }, false);
    expect(decisionOf((await submit([titleChange(fromApollo)])).body, fromApollo)).toBe('applied');
    const types = (
      await harness.database.db
        .select({ type: auditEvents.type })
        .from(auditEvents)
        .where(eq(auditEvents.workspaceId, ws.workspaceId))
    ).map((event) => event.type);
    expect(types).toEqual(expect.arrayContaining(['kill_switch.engaged', 'kill_switch.released']));
  });

  it('a segment by record condition refuses writes on the records it matches and no others', async () => {
    const [customer, lead] = [contact({ lifecyclestage: 'customer' }), contact({ lifecyclestage: 'lead' })];
    const condition = { objectType: 'contacts', property: 'lifecyclestage', op: 'eq', value: 'customer' };
    const engaged = await engage({ scope: 'segment', condition });
    expect(engaged.body).toMatchObject({ scope: 'segment', condition, engaged: true });
    const res = await submit([titleChange(customer), titleChange(lead)]);
    expect(decisionOf(res.body, customer)).toBe('denied');
    expect(decisionOf(res.body, lead)).toBe('applied');
    // Released by the same condition.
    await engage({ scope: 'segment', condition }, false);
    expect(decisionOf((await submit([titleChange(customer)])).body, customer)).not.toBe('denied');
  });

  it('a segment by CRM list refuses writes and drafts on the list’s members only', async () => {
    const [member, outsider] = [contact(), contact()];
    harness.hubspot.state.lists.set('77', new Set([member!]));
    expect((await engage({ scope: 'segment', target: 'list:77' })).status).toBe(200);
    const res = await submit([titleChange(member), titleChange(outsider)]);
    expect(decisionOf(res.body, member)).toBe('denied');
    expect(decisionOf(res.body, outsider)).toBe('applied');
    const email = await submitAction(harness, outreach(), emailAction(member!));
    expect([email.status, email.body.error.details]).toEqual([423, expect.objectContaining({ target: 'list:77' })]);
    expect((await submitAction(harness, outreach(), emailAction(outsider!))).status).toBe(201);
  });

  it('a switch engaged while a change set is written stops the rest of its scope before the next CRM call', async () => {
    const ids = Array.from({ length: 150 }, () => contact());
    const real = harness.deps.crmFor;
    let batches = 0;
    harness.deps.crmFor = (workspace): CrmPort => {
      const crm = real(workspace);
      return {
        ...crm,
        describeProperties: (t) => crm.describeProperties(t),
        readBatch: (input) => crm.readBatch(input),
        ensureProperties: (input) => crm.ensureProperties(input),
        writeBatch: async (input) => {
          const outcome = await crm.writeBatch(input);
          if (++batches === 1)
            await setKillSwitch(
              harness.deps,
              ws.workspaceId,
              { scope: 'evidence_source', target: 'apollo', engaged: true, reason: 'stop now' },
              ADMIN,
            );
          return outcome;
        },
      };
    };
    // The first 100 go in the first batch; of the other 50, those citing apollo are stopped.
    const res = await submit(ids.map((id, i) => titleChange(id, i >= 100 && i % 2 === 0 ? 'apollo' : 'clearbit')));
    expect(res.body.summary).toMatchObject({ applied: 125, failed: 25 });
    const stopped = res.body.results.filter((r: { decision: string }) => r.decision === 'failed');
    expect(stopped[0].message).toContain('evidence_source apollo');
  });

  it('a recipient-domain switch refuses emails to that domain and its subdomains, not others', async () => {
    await engage({ scope: 'recipient_domain', target: 'Example.com' });
    const id = contact();
    const refused = await submitAction(harness, outreach(), emailAction(id, { to: 'ada@eu.example.com' }));
    expect(refused.status).toBe(423);
    expect(refused.body.error).toMatchObject({
      code: 'KILL_SWITCH_ENGAGED',
      details: { scope: 'recipient_domain', target: 'example.com' },
    });
    const other = await submitAction(harness, outreach(), emailAction(id, { to: 'ada@acme.io' }));
    expect(other.status).toBe(201);
  });

  it('a template switch refuses drafts of that family, whatever their kind, and leaves untagged ones', async () => {
    await engage({ scope: 'template', target: 'pricing-v2' });
    const id = contact();
    const tagged = await submitAction(harness, outreach(), emailAction(id, { template: 'Pricing-V2' }));
    expect([tagged.status, tagged.body.error.details.scope]).toEqual([423, 'template']);
    const note = await submitAction(harness, outreach(), {
      kind: 'create_note',
      objectType: 'contacts',
      recordId: id,
      body: 'Sent pricing',
      template: 'pricing-v2',
      evidence: { source: 'planner', reason: 'call notes' },
    });
    expect(note.status).toBe(423);
    expect((await submitAction(harness, outreach(), emailAction(id, { template: 'intro' }))).status).toBe(201);
    expect((await submitAction(harness, outreach(), emailAction(id))).status).toBe(201);
  });

  it('refuses a segment without a list or a condition, and a domain that is not one', async () => {
    expect((await engage({ scope: 'segment' })).status).toBe(400);
    expect((await engage({ scope: 'segment', target: 'list:abc' })).status).toBe(400);
    expect((await engage({ scope: 'recipient_domain', target: 'not a domain' })).status).toBe(400);
    expect(
      (await engage({ scope: 'template', condition: { objectType: 'contacts', property: 'x', op: 'is_empty' } }))
        .status,
    ).toBe(400);
  });
});

describe('the workspace kill switch', () => {
  it('suspends every agent token until it is released', async () => {
    await engage({ scope: 'workspace' });
    for (const call of [
      api(harness, 'POST', '/v1/records/read', {
        token: enrichment(),
        body: { objectType: 'contacts', recordIds: [contact()] },
      }),
      api(harness, 'GET', '/v1/actions/00000000-0000-4000-8000-000000000000', { token: outreach() }),
    ]) {
      const res = await call;
      expect(res.status).toBe(423);
      expect(res.body.error).toMatchObject({
        code: 'KILL_SWITCH_ENGAGED',
        message:
          'A workspace kill switch is engaged: bad data from a provider. Agent tokens are suspended until it is released.',
        details: { scope: 'workspace', tokensSuspended: true },
      });
    }
    await engage({ scope: 'workspace' }, false);
    const read = await api(harness, 'GET', '/v1/actions/00000000-0000-4000-8000-000000000000', { token: outreach() });
    expect(read.status).toBe(404);
  });

  it('locks policy edits to owners while engaged', async () => {
    await engage({ scope: 'workspace' });
    const approver = { type: 'person', name: 'Rita', crmUserId: '2001', role: 'revops_admin', via: 'console' } as const;
    await expect(publishPolicy(harness.deps, ws.workspaceId, EXAMPLE_POLICY, approver)).rejects.toMatchObject({
      code: 'POLICY_LOCKED',
    });
    const owner = { ...approver, name: 'Olga', crmUserId: '2002', role: 'owner' } as const;
    await expect(publishPolicy(harness.deps, ws.workspaceId, EXAMPLE_POLICY, owner)).resolves.toMatchObject({
      version: expect.any(Number),
    });
    await engage({ scope: 'workspace' }, false);
    await expect(publishPolicy(harness.deps, ws.workspaceId, EXAMPLE_POLICY, approver)).resolves.toMatchObject({
      version: expect.any(Number),
    });
  });
});
