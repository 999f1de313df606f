import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { propertyHistory, recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { verifyAudit, bootstrapWorkspace, publishPolicy } from '../../server/src/services/governance/index.ts';
import { emailAction, submitAction } from '../support/actions.ts';
import { expectOneOfTwoDecisions, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

/**
 * Drill (issue 17): races. Concurrent requests, each its own HTTP request to the real app on a
 * real port over the real database (Postgres with a pool under TEST_DATABASE_URL), HubSpot slowed
 * so every request is in flight at once. Bounded: a few rounds of at most a dozen requests each.
 */
const AGENTS = 12;
const ROUNDS = 3;
const CAPS = { writesPerAgentPerDay: 5, writesPerRecordPerDay: 3, sendsPerRecipientDomainPerDay: 4 };
const EVIDENCE = { source: 'clearbit', url: 'https://example.com/about', confidence: 0.95, reason: 'Company site' };

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  harness = await startHarness();
  // A dozen racing enrichers, the outreach agent, two proposers of held writes, one agent with its whole cap left.
  ws = await seedWorkspace(harness, [...Array.from({ length: AGENTS + 4 }, () => 'enrichment' as const), 'outreach']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '502': 'approver' });
  // Small caps, no send window: the drill runs at any hour and reaches every cap with a dozen requests.
  const example = EXAMPLE_POLICY as { caps: object; actions: object };
  await publishPolicy(
    harness.deps,
    ws.workspaceId,
    { ...example, windows: [], caps: { ...example.caps, ...CAPS } },
    ADMIN,
  );
  harness.hubspot.faults.latencyMs = 25;
}, 60_000);
afterAll(async () => {
  expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  await harness.close();
});

const enrichers = () => ws.agents.slice(0, AGENTS);
const outreach = () => ws.agents.at(-1)!;

function submit(token: string, batchId: string, changes: { recordId: string; properties: Record<string, string> }[]) {
  return api(harness, 'POST', '/v1/changesets', {
    token,
    body: { batchId, objectType: 'contacts', changes: changes.map((change) => ({ ...change, evidence: EVIDENCE })) },
  });
}

type Result = { decision: string; reasons: string[]; proposed: string | null };
const firstResult = (res: { body: { results: Result[] } }) => res.body.results[0]!;

describe('the overwrite race', () => {
  it('applies exactly one of a dozen agents filling the same empty company at once, round after round', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const recordId = seedRecord(harness.hubspot.state, 'contacts', {
        properties: { email: `race${round}@example.com` },
      });
      // Each agent writes once per round, well under its daily cap of 5.
      const responses = await Promise.all(
        enrichers().map((agent, i) =>
          submit(agent.token, `race-${round}`, [{ recordId, properties: { company: `Company ${round}-${i}` } }]),
        ),
      );
      expect(responses.map((res) => res.status)).toEqual(Array(AGENTS).fill(201));
      const results = responses.map(firstResult);
      const applied = results.filter((result) => result.decision === 'applied');
      expect(applied).toHaveLength(1);
      // Every other one is held as an overwrite of the winner's value (those past the record's cap of 3 are denied too).
      const others = results.filter((result) => result !== applied[0]);
      expect(
        others.every(
          (result) =>
            result.reasons.includes('overwrites_non_empty_value') &&
            ['pending_approval', 'denied'].includes(result.decision),
        ),
      ).toBe(true);
      expect(others.filter((result) => result.decision === 'pending_approval')).toHaveLength(
        CAPS.writesPerRecordPerDay - 1,
      );
      expect(recordValues(harness.hubspot.state, 'contacts', recordId)?.company).toBe(applied[0]!.proposed);
      expect(
        propertyHistory(harness.hubspot.state, 'contacts', recordId, 'company').filter(
          (entry) => entry.sourceType === 'API',
        ),
      ).toHaveLength(1);
    }
  });
});

describe('two decisions on one approval at once', () => {
  async function held(round: number, kind: string) {
    const recordId = seedContact(harness, { email: `${kind}${round}@example.com` });
    // Two proposers take turns, so neither reaches its daily cap of 5 over the six proposals.
    const proposer = ws.agents[AGENTS + 1 + (round % 2)]!;
    const approvalId = await proposeHeld(harness, {
      token: proposer.token,
      adminToken: ws.adminToken,
      recordId,
      properties: { phone: `+1 555 01${round}0` },
    });
    return { recordId, approvalId };
  }

  it('applies an approval approved twice at once exactly once; the other gets 409', async () => {
    for (let round = 0; round < ROUNDS; round += 1)
      await expectOneOfTwoDecisions(harness, ws.adminToken, await held(round, 'twice'), 'approve');
  });

  it('lets one of an approve and a reject at once win; the other gets 409 and the record matches the winner', async () => {
    for (let round = 0; round < ROUNDS; round += 1)
      await expectOneOfTwoDecisions(harness, ws.adminToken, await held(round + ROUNDS, 'split'), 'reject');
  });
});

describe('concurrent submissions against every cap', () => {
  it('holds the agent daily write cap exactly', async () => {
    const agent = ws.agents[AGENTS + 3]!;
    const recordIds = Array.from({ length: AGENTS }, (_, i) =>
      seedRecord(harness.hubspot.state, 'contacts', { properties: { email: `agentcap${i}@example.com` } }),
    );
    const responses = await Promise.all(
      recordIds.map((recordId, i) =>
        submit(agent.token, `agent-cap-${i}`, [{ recordId, properties: { jobtitle: `Title ${i}` } }]),
      ),
    );
    const results = responses.map(firstResult);
    expect(results.filter((result) => result.decision === 'applied')).toHaveLength(CAPS.writesPerAgentPerDay);
    expect(results.filter((result) => result.reasons.includes('cap_agent_daily_writes_reached'))).toHaveLength(
      AGENTS - CAPS.writesPerAgentPerDay,
    );
  });

  it('holds the record daily write cap exactly', async () => {
    const recordId = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'recordcap@example.com' } });
    const agents = enrichers().slice(0, AGENTS - 1);
    const responses = await Promise.all(
      agents.map((agent, i) =>
        submit(agent.token, `record-cap-${i}`, [{ recordId, properties: { jobtitle: `Title ${i}` } }]),
      ),
    );
    const results = responses.map(firstResult);
    expect(results.filter((result) => result.decision === 'applied')).toHaveLength(CAPS.writesPerRecordPerDay);
    expect(results.filter((result) => result.reasons.includes('cap_record_daily_writes_reached'))).toHaveLength(
      agents.length - CAPS.writesPerRecordPerDay,
    );
    expect(
      propertyHistory(harness.hubspot.state, 'contacts', recordId, 'jobtitle').filter(
        (entry) => entry.sourceType === 'API',
      ),
    ).toHaveLength(CAPS.writesPerRecordPerDay);
  });

  it('holds the recipient domain daily send cap exactly for drafts', async () => {
    const recordIds = Array.from({ length: AGENTS }, (_, i) =>
      seedRecord(harness.hubspot.state, 'contacts', { properties: { email: `person${i}@sends.example` } }),
    );
    const responses = await Promise.all(
      recordIds.map((recordId, i) =>
        submitAction(harness, outreach().token, emailAction(recordId, { to: `person${i}@sends.example` })),
      ),
    );
    expect(responses.map((res) => res.status)).toEqual(Array(AGENTS).fill(201));
    const refused = responses.filter((res) => res.body.reasons.includes('cap_domain_daily_sends_reached'));
    expect(responses.length - refused.length).toBe(CAPS.sendsPerRecipientDomainPerDay);
    expect(refused.every((res) => res.body.tier === 'deny')).toBe(true);
  });
});
