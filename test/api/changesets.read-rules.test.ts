import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { createAgent, publishPolicy } from '../../server/src/services/governance/index.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { callMcpTool } from '../support/mcp.ts';

// Proposing a change is no way to read a value the policy's read rules withhold or mask (issue 21).
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let token: string;

const base = EXAMPLE_POLICY as { objects: { contacts: object } };
const withReadRules = {
  ...base,
  objects: {
    ...base.objects,
    contacts: { ...base.objects.contacts, read: { jobtitle: { '*': 'full' }, email: { enrichment: 'masked' } } },
  },
};

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment']);
  token = ws.agents[0]!.token;
});
afterEach(() => harness.close());

const evidence = { source: 'clearbit', reason: 'Company site lists it', confidence: 0.92 };

function seedContact() {
  return seedRecord(harness.hubspot.state, 'contacts', {
    properties: { email: 'ada@example.com', firstname: 'Ada', phone: '+1 555 0100', jobtitle: 'CEO' },
  });
}

// firstname is denied (named nowhere), phone and email are held for approval, jobtitle is applied.
const proposal = (recordId: string) => ({
  batchId: 'enrich-1',
  objectType: 'contacts',
  changes: [
    {
      recordId,
      properties: { firstname: 'Augusta', phone: '+1 555 0199', email: 'ada@lovelace.org', jobtitle: 'CTO' },
      evidence,
    },
  ],
});

function byProperty(changeSet: { results: { property: string }[] }): Record<string, object> {
  return Object.fromEntries(changeSet.results.map((result) => [result.property, result]));
}

async function mcp(name: string, args: object, as = token): Promise<any> {
  return JSON.parse((await callMcpTool(harness, as, name, args)).texts[1]!);
}

const shownByReadRules = {
  firstname: { decision: 'denied', before: null, beforeShownAs: 'withheld', proposed: 'Augusta' },
  phone: { decision: 'pending_approval', before: null, beforeShownAs: 'withheld', proposed: '+1 555 0199' },
  email: { decision: 'pending_approval', before: 'a***@example.com', beforeShownAs: 'masked' },
  jobtitle: { decision: 'applied', before: 'CEO', proposed: 'CTO' },
};

describe('a change set’s before values, under the policy’s read rules', () => {
  it('are withheld or masked in the answer and when read back over REST, as a governed read would', async () => {
    await publishPolicy(harness.deps, ws.workspaceId, withReadRules, ADMIN);
    const id = seedContact();
    const res = await api(harness, 'POST', '/v1/changesets', { token, body: proposal(id) });
    expect(res.status).toBe(201);
    expect(byProperty(res.body)).toMatchObject(shownByReadRules);
    expect(byProperty(res.body).jobtitle).not.toHaveProperty('beforeShownAs');
    expect(JSON.stringify(res.body)).not.toMatch(/Ada|ada@example\.com|555 0100/);

    const read = await api(harness, 'GET', `/v1/changesets/${res.body.id}`, { token });
    expect(read.status).toBe(200);
    expect(byProperty(read.body)).toMatchObject(shownByReadRules);
    expect(JSON.stringify(read.body)).not.toMatch(/Ada|ada@example\.com|555 0100/);

    // People still see the value the agent may not read.
    const approvals = await api(harness, 'GET', `/v1/admin/approvals?record=${id}`, { token: ws.adminToken });
    expect(JSON.stringify(approvals.body)).toContain('+1 555 0100');
  });

  it('are withheld or masked by the MCP tools too: the proposal, get_change_set and get_record_proposals', async () => {
    await publishPolicy(harness.deps, ws.workspaceId, withReadRules, ADMIN);
    const id = seedContact();
    const proposed = await mcp('propose_crm_changes', proposal(id));
    expect(byProperty(proposed)).toMatchObject(shownByReadRules);
    const read = await mcp('get_change_set', { changeSetId: proposed.id });
    expect(byProperty(read)).toMatchObject(shownByReadRules);
    expect(JSON.stringify([proposed, read])).not.toMatch(/Ada|ada@example\.com|555 0100/);

    const waiting = await mcp('get_record_proposals', { objectType: 'contacts', recordId: id });
    expect(waiting.proposals).toHaveLength(1);
    expect(waiting.proposals[0].properties).toEqual(
      expect.arrayContaining([
        { property: 'phone', proposed: '+1 555 0199', before: null, beforeShownAs: 'withheld' },
        { property: 'email', proposed: 'ada@lovelace.org', before: 'a***@example.com', beforeShownAs: 'masked' },
      ]),
    );
    expect(JSON.stringify(waiting)).not.toMatch(/ada@example\.com|555 0100/);
  });

  it('follow the policy the decision was taken under, though another is published before the answer', async () => {
    const { version } = await publishPolicy(harness.deps, ws.workspaceId, withReadRules, ADMIN);
    const id = seedContact();
    // The applied jobtitle's write is in flight, its decisions stored, when an admin publishes a
    // policy that reads every value in full: the answer still shows what the decision's policy lets it read.
    const write = harness.hubspot.faults.hold('POST /crm/v3/objects/{type}/batch/update');
    const answer = api(harness, 'POST', '/v1/changesets', { token, body: proposal(id) });
    await write.arrived;
    await publishPolicy(harness.deps, ws.workspaceId, EXAMPLE_POLICY, ADMIN);
    write.release();
    const res = await answer;
    expect(res.status).toBe(201);
    expect(res.body.policyVersion).toBe(version);
    expect(byProperty(res.body)).toMatchObject(shownByReadRules);
    expect(JSON.stringify(res.body)).not.toMatch(/Ada|ada@example\.com|555 0100/);
  });

  it('of a replay are shown as the read rules in force now let the agent read them', async () => {
    const id = seedContact();
    const submit = () =>
      api(harness, 'POST', '/v1/changesets', { token, body: proposal(id), headers: { 'idempotency-key': 'enrich-1' } });
    const first = await submit();
    expect(byProperty(first.body)).toMatchObject({ phone: { before: '+1 555 0100' } });
    // Read rules published since: replaying the stored answer must not hand over what a read now withholds.
    await publishPolicy(harness.deps, ws.workspaceId, withReadRules, ADMIN);
    const replayed = await submit();
    expect(replayed.body.id).toBe(first.body.id);
    expect(byProperty(replayed.body)).toMatchObject(shownByReadRules);
    expect(JSON.stringify(replayed.body)).not.toMatch(/Ada|ada@example\.com|555 0100/);
  });

  it('another agent’s proposed values waiting on the record are masked or withheld by get_record_proposals too', async () => {
    await publishPolicy(harness.deps, ws.workspaceId, withReadRules, ADMIN);
    const other = await createAgent(harness.deps, ws.workspaceId, { name: 'enrichment-2', role: 'enrichment' }, ADMIN);
    const id = seedContact();
    expect((await api(harness, 'POST', '/v1/changesets', { token, body: proposal(id) })).status).toBe(201);

    const waiting = await mcp('get_record_proposals', { objectType: 'contacts', recordId: id }, other.token);
    expect(waiting.proposals).toHaveLength(1);
    expect(waiting.proposals[0].yours).toBe(false);
    // Which properties wait is shown, so it does not propose them again; the values only as it may read them.
    expect(waiting.proposals[0].properties).toEqual(
      expect.arrayContaining([
        { property: 'phone', proposed: null, proposedShownAs: 'withheld', before: null, beforeShownAs: 'withheld' },
        {
          property: 'email',
          proposed: 'a***@lovelace.org',
          proposedShownAs: 'masked',
          before: 'a***@example.com',
          beforeShownAs: 'masked',
        },
      ]),
    );
    expect(JSON.stringify(waiting)).not.toMatch(/ada@lovelace\.org|555 0199|ada@example\.com|555 0100/);
  });

  it('a decision does not depend on a value the agent may not read, over REST and MCP; one it may read still does', async () => {
    await publishPolicy(harness.deps, ws.workspaceId, withReadRules, ADMIN);
    // phone (approval) and company (auto, raised by overwrites_non_empty) are withheld; jobtitle is read in full.
    const sourced = { ...evidence, url: 'https://example.com/team' };
    const probe = async (submit: (body: object) => Promise<any>) => {
      const known = seedRecord(harness.hubspot.state, 'contacts', {
        properties: { phone: '+1 555 0100', company: 'Acme', jobtitle: 'CEO', firstname: 'Ada' },
      });
      const blank = seedRecord(harness.hubspot.state, 'contacts', { properties: { phone: '+1 555 0100' } });
      const changeSet = await submit({
        batchId: 'oracle',
        objectType: 'contacts',
        changes: [
          // Right guesses of the withheld phone and firstname (denied), and wrong ones; a company over a value, and over none.
          {
            recordId: known,
            properties: { phone: '+1 555 0100', firstname: 'Ada', company: 'Globex', jobtitle: 'CEO' },
            evidence: sourced,
          },
          {
            recordId: blank,
            properties: { phone: '+1 555 0111', firstname: 'Bea', company: 'Globex' },
            evidence: sourced,
          },
        ],
      });
      const answer = (recordId: string, property: string) => {
        const { decision, tier, reasons, before, beforeShownAs } = changeSet.results.find(
          (r: { recordId: string; property: string }) => r.recordId === recordId && r.property === property,
        );
        return { decision, tier, reasons, before, beforeShownAs };
      };
      expect(answer(known, 'phone')).toEqual(answer(blank, 'phone'));
      expect(answer(known, 'phone')).toMatchObject({ decision: 'pending_approval', reasons: ['tier_approval'] });
      expect(answer(known, 'firstname')).toEqual(answer(blank, 'firstname'));
      expect(answer(known, 'firstname')).toMatchObject({ decision: 'denied', reasons: ['field_not_allowed'] });
      expect(answer(known, 'company')).toEqual(answer(blank, 'company'));
      expect(answer(known, 'company')).toMatchObject({
        decision: 'pending_approval',
        reasons: ['tier_auto', 'overwrites_non_empty_value'],
      });
      // A value it may read keeps the reason agents rely on.
      expect(answer(known, 'jobtitle')).toMatchObject({
        decision: 'applied',
        reasons: ['tier_auto', 'value_unchanged'],
      });
      return known;
    };

    const known = await probe(async (body) => (await api(harness, 'POST', '/v1/changesets', { token, body })).body);
    await probe((body) => mcp('propose_crm_changes', body));

    // People see the truth: the phone held is the one the record already has.
    const approvals = await api(harness, 'GET', `/v1/admin/approvals?record=${known}`, { token: ws.adminToken });
    expect(JSON.stringify(approvals.body)).toMatch(
      /"before":"\+1 555 0100","proposed":"\+1 555 0100"|"proposed":"\+1 555 0100","before":"\+1 555 0100"/,
    );
  });

  it('are given as they are when the policy has no read section', async () => {
    const id = seedContact();
    const res = await api(harness, 'POST', '/v1/changesets', { token, body: proposal(id) });
    const asToday = {
      firstname: { before: 'Ada' },
      phone: { before: '+1 555 0100' },
      email: { before: 'ada@example.com' },
      jobtitle: { before: 'CEO' },
    };
    expect(byProperty(res.body)).toMatchObject(asToday);
    expect(res.body.results.filter((r: object) => 'beforeShownAs' in r)).toEqual([]);
    const read = await api(harness, 'GET', `/v1/changesets/${res.body.id}`, { token });
    expect(byProperty(read.body)).toMatchObject(asToday);
    const waiting = await mcp('get_record_proposals', { objectType: 'contacts', recordId: id });
    expect(waiting.proposals[0].properties).toEqual(
      expect.arrayContaining([{ property: 'phone', proposed: '+1 555 0199', before: '+1 555 0100' }]),
    );
  });
});

describe('a change set’s reasons, under the policy’s read rules', () => {
  type Result = { recordId: string; property: string; decision: string; tier: string; reasons: string[] };
  const answerOf = (changeSet: { results: Result[] }, recordId: string, property: string) => {
    const { decision, tier, reasons } = changeSet.results.find(
      (r) => r.recordId === recordId && r.property === property,
    )!;
    return { decision, tier, reasons };
  };
  const url = 'https://example.com/team';
  const auditSeenByAdmin = async () => {
    const exported = await fetch(`${harness.url}/v1/admin/audit/export?agent=${ws.agents[0]!.id}`, {
      headers: { authorization: `Bearer ${ws.adminToken}` },
    });
    return exported.text();
  };

  it('withhold value_unchanged from a replay and a read back once the property may no longer be read in full', async () => {
    // Decided while every value was readable: the agent proposed the values the record held.
    const id = seedRecord(harness.hubspot.state, 'contacts', { properties: { jobtitle: 'CEO', city: 'Boston' } });
    const body = {
      batchId: 'enrich-1',
      objectType: 'contacts',
      changes: [{ recordId: id, properties: { jobtitle: 'CEO', city: 'Boston' }, evidence }],
    };
    const submit = () => api(harness, 'POST', '/v1/changesets', { token, body, headers: { 'idempotency-key': 'k1' } });
    const first = await submit();
    expect(answerOf(first.body, id, 'jobtitle')).toMatchObject({ reasons: ['tier_auto', 'value_unchanged'] });

    // Tightened since: jobtitle withheld, city masked. "Unchanged" beside the proposal would be the value.
    const tightened = {
      ...base,
      objects: { ...base.objects, contacts: { ...base.objects.contacts, read: { city: { '*': 'masked' } } } },
    };
    await publishPolicy(harness.deps, ws.workspaceId, tightened, ADMIN);
    const expected = {
      jobtitle: {
        decision: 'applied',
        reasons: ['tier_auto'],
        before: null,
        beforeShownAs: 'withheld',
        proposed: 'CEO',
      },
      city: {
        decision: 'applied',
        reasons: ['tier_auto'],
        before: 'B***',
        beforeShownAs: 'masked',
        proposed: 'Boston',
      },
    };
    const replayed = await submit();
    expect(replayed.status).toBe(200);
    const read = await api(harness, 'GET', `/v1/changesets/${first.body.id}`, { token });
    const overMcp = await mcp('get_change_set', { changeSetId: first.body.id });
    for (const shown of [replayed.body, read.body, overMcp]) {
      expect(byProperty(shown)).toMatchObject(expected);
      expect(JSON.stringify(shown)).not.toContain('value_unchanged');
    }
    expect(await auditSeenByAdmin()).toContain('value_unchanged');
  });

  it('withhold record_condition_matched when the condition looks at a property the agent may not read; the decision stands, over REST and MCP', async () => {
    // EXAMPLE_POLICY raises any contact write to approval when lifecyclestage is customer; withReadRules withholds lifecyclestage.
    await publishPolicy(harness.deps, ws.workspaceId, withReadRules, ADMIN);
    const probe = async (submit: (body: object) => Promise<any>, read: (id: string) => Promise<any>) => {
      const customer = seedRecord(harness.hubspot.state, 'contacts', { properties: { lifecyclestage: 'customer' } });
      const lead = seedRecord(harness.hubspot.state, 'contacts', { properties: { lifecyclestage: 'lead' } });
      const changes = [customer, lead].map((recordId) => ({
        recordId,
        properties: { phone: '+1 555 0199', jobtitle: 'CTO' },
        evidence: { ...evidence, url },
      }));
      const answered = await submit({ batchId: 'segment', objectType: 'contacts', changes });
      for (const changeSet of [answered, await read(answered.id)]) {
        // phone is held either way: its answer must not tell a customer from a lead.
        expect(answerOf(changeSet, customer, 'phone')).toEqual(answerOf(changeSet, lead, 'phone'));
        expect(answerOf(changeSet, customer, 'phone')).toEqual({
          decision: 'pending_approval',
          tier: 'approval',
          reasons: ['tier_approval'],
        });
        // The admin's rule still holds the customer's jobtitle; only its reason is not named.
        expect(answerOf(changeSet, customer, 'jobtitle')).toEqual({
          decision: 'pending_approval',
          tier: 'approval',
          reasons: ['tier_auto'],
        });
        expect(answerOf(changeSet, lead, 'jobtitle')).toEqual({
          decision: 'applied',
          tier: 'auto',
          reasons: ['tier_auto'],
        });
        expect(JSON.stringify(changeSet)).not.toContain('record_condition_matched');
      }
      return customer;
    };
    const customer = await probe(
      async (body) => (await api(harness, 'POST', '/v1/changesets', { token, body })).body,
      async (id) => (await api(harness, 'GET', `/v1/changesets/${id}`, { token })).body,
    );
    await probe(
      (body) => mcp('propose_crm_changes', body),
      (id) => mcp('get_change_set', { changeSetId: id }),
    );

    // People see why it was held.
    expect(await auditSeenByAdmin()).toContain('record_condition_matched');

    // Once the agent may read lifecyclestage in full, the reason is named.
    const readable = {
      ...withReadRules,
      objects: {
        ...withReadRules.objects,
        contacts: { ...withReadRules.objects.contacts, read: { lifecyclestage: { '*': 'full' } } },
      },
    };
    await publishPolicy(harness.deps, ws.workspaceId, readable, ADMIN);
    const res = await api(harness, 'POST', '/v1/changesets', {
      token,
      body: {
        batchId: 'segment',
        objectType: 'contacts',
        changes: [{ recordId: customer, properties: { phone: '+1 555 0142' }, evidence: { ...evidence, url } }],
      },
    });
    expect(answerOf(res.body, customer, 'phone').reasons).toEqual(['tier_approval', 'record_condition_matched']);
  });

  it('withhold record_condition_matched decided under a condition since removed, once its property is withheld', async () => {
    // Decided with no read rules: the agent was told the customer's write matched the condition.
    const customer = seedRecord(harness.hubspot.state, 'contacts', { properties: { lifecyclestage: 'customer' } });
    const body = {
      batchId: 'segment',
      objectType: 'contacts',
      changes: [{ recordId: customer, properties: { jobtitle: 'CTO' }, evidence: { ...evidence, url } }],
    };
    const submit = () => api(harness, 'POST', '/v1/changesets', { token, body, headers: { 'idempotency-key': 'k2' } });
    const first = await submit();
    expect(answerOf(first.body, customer, 'jobtitle').reasons).toEqual(['tier_auto', 'record_condition_matched']);

    // Now lifecyclestage is withheld, and the condition is gone from the policy in force: the one
    // that decided the write still names the property the reason would tell about.
    const conditions = (withReadRules as unknown as { conditions: { kind: string }[] }).conditions;
    await publishPolicy(
      harness.deps,
      ws.workspaceId,
      { ...withReadRules, conditions: conditions.filter((c) => c.kind !== 'record_matches') },
      ADMIN,
    );
    const replayed = await submit();
    const read = await api(harness, 'GET', `/v1/changesets/${first.body.id}`, { token });
    const overMcp = await mcp('get_change_set', { changeSetId: first.body.id });
    for (const shown of [replayed.body, read.body, overMcp]) {
      expect(answerOf(shown, customer, 'jobtitle')).toEqual({
        decision: 'pending_approval',
        tier: 'approval',
        reasons: ['tier_auto'],
      });
    }
  });
});
