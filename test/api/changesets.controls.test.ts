import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CrmPort } from '../../server/src/crm/port.ts';
import {
  createDelegation,
  bootstrapWorkspace,
  setKillSwitch,
  publishPolicy,
} from '../../server/src/services/governance/index.ts';
import { recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { workspaceTurns } from '../../server/src/services/common/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { ADMIN, EXAMPLE_POLICY, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { submissionRowCounts } from '../support/row-counts.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment', 'enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
});
afterEach(() => harness.close());

const evidence = { source: 'apollo', reason: 'profile says so', confidence: 0.9 };
const contacts = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    seedRecord(harness.hubspot.state, 'contacts', { properties: { email: `c${i}@example.com` } }),
  );
const submission = (ids: string[], batchId = 'b') => ({
  batchId,
  objectType: 'contacts',
  changes: ids.map((recordId) => ({ recordId, properties: { jobtitle: 'CTO' }, evidence })),
});

describe('kill switches', () => {
  it.each([
    { scope: 'workspace' as const, target: (): string | undefined => undefined },
    { scope: 'agent' as const, target: (): string | undefined => ws.agents[0]!.id },
    { scope: 'action' as const, target: (): string | undefined => 'field_write' },
  ])(
    'an engaged $scope switch refuses new submissions with 423 at once and stores nothing',
    async ({ scope, target }) => {
      const [id] = contacts(1);
      await setKillSwitch(
        harness.deps,
        ws.workspaceId,
        { scope, target: target(), engaged: true, reason: 'bad enrichment run' },
        ADMIN,
      );
      const before = await submissionRowCounts(harness.database.db);
      const res = await api(harness, 'POST', '/v1/changesets', { token: ws.agents[0]!.token, body: submission([id!]) });
      expect(res.status).toBe(423);
      expect(res.body.error).toMatchObject({
        code: 'KILL_SWITCH_ENGAGED',
        details: { scope, reason: 'bad enrichment run' },
      });
      expect(await submissionRowCounts(harness.database.db)).toEqual(before);

      await setKillSwitch(
        harness.deps,
        ws.workspaceId,
        { scope, target: target(), engaged: false, reason: 'fixed' },
        ADMIN,
      );
      expect(
        (await api(harness, 'POST', '/v1/changesets', { token: ws.agents[0]!.token, body: submission([id!]) })).status,
      ).toBe(201);
      const types = (
        await harness.database.db
          .select({ type: auditEvents.type })
          .from(auditEvents)
          .where(eq(auditEvents.workspaceId, ws.workspaceId))
      ).map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['kill_switch.engaged', 'kill_switch.released']));
    },
  );

  it('an agent switch stops only that agent', async () => {
    const [id] = contacts(1);
    await setKillSwitch(
      harness.deps,
      ws.workspaceId,
      { scope: 'agent', target: ws.agents[0]!.id, engaged: true, reason: 'looping' },
      ADMIN,
    );
    expect(
      (await api(harness, 'POST', '/v1/changesets', { token: ws.agents[1]!.token, body: submission([id!]) })).status,
    ).toBe(201);
  });

  it('a switch engaged while a change set is being written stops the writes before the next CRM call', async () => {
    const ids = contacts(250);
    const real = harness.deps.crmFor;
    let batches = 0;
    // Engage the switch the moment the first HubSpot batch update returns, as an admin racing the agent would.
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
              { scope: 'workspace', engaged: true, reason: 'stop now' },
              ADMIN,
            );
          return outcome;
        },
      };
    };
    const res = await api(harness, 'POST', '/v1/changesets', { token: ws.agents[0]!.token, body: submission(ids) });
    expect(res.status).toBe(201);
    expect(batches).toBe(1);
    expect(res.body.summary).toMatchObject({ applied: 100, failed: 150 });
    expect(res.body.results[200]).toMatchObject({ decision: 'failed', reasons: ['tier_auto', 'kill_switch_engaged'] });
    expect(recordValues(harness.hubspot.state, 'contacts', ids[200]!)!.jobtitle).toBeUndefined();
    // The workspace switch suspends agent tokens (issue 21): the agent reads its change set back once it is released.
    await setKillSwitch(harness.deps, ws.workspaceId, { scope: 'workspace', engaged: false, reason: 'over' }, ADMIN);
    expect((await api(harness, 'GET', `/v1/changesets/${res.body.id}`, { token: ws.agents[0]!.token })).body).toEqual(
      res.body,
    );
  });

  it('refuses a change set that waited its turn behind another while a switch was engaged, storing nothing', async () => {
    const [id] = contacts(1);
    // The server's turns (issue 23), with the running change set held open by the test.
    const turns = workspaceTurns(1);
    let inLine = () => {};
    const reachedLine = new Promise<void>((resolve) => {
      inLine = resolve;
    });
    harness.deps.changeSetTurns = {
      run: (workspaceId, work) => {
        inLine();
        return turns.run(workspaceId, work);
      },
    };
    let finishRunning = () => {};
    const running = turns.run(ws.workspaceId, () => new Promise<void>((resolve) => (finishRunning = resolve)));
    const waiting = api(harness, 'POST', '/v1/changesets', { token: ws.agents[0]!.token, body: submission([id!]) });
    await reachedLine;
    await setKillSwitch(
      harness.deps,
      ws.workspaceId,
      { scope: 'agent', target: ws.agents[0]!.id, engaged: true, reason: 'runaway' },
      ADMIN,
    );
    const before = await submissionRowCounts(harness.database.db);
    const crmCalls = harness.hubspot.calls.count();
    finishRunning();
    await running;
    const res = await waiting;
    expect(res.status).toBe(423);
    expect(res.body.error).toMatchObject({ code: 'KILL_SWITCH_ENGAGED' });
    expect(await submissionRowCounts(harness.database.db)).toEqual(before);
    expect(harness.hubspot.calls.count()).toBe(crmCalls);
  });
});

describe('delegated identity', () => {
  it('refuses to act for a person without a delegation, and records both identities with one', async () => {
    const [id] = contacts(1);
    const body = { ...submission([id!]), onBehalfOf: { crmUserId: '4242' } };
    const refused = await api(harness, 'POST', '/v1/changesets', { token: ws.agents[0]!.token, body });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('DELEGATION_INVALID');

    const delegation = await createDelegation(
      harness.deps,
      ws.workspaceId,
      { agentId: ws.agents[0]!.id, crmUserId: '4242', expiresAt: new Date(Date.now() + 3_600_000) },
      ADMIN,
    );
    const res = await api(harness, 'POST', '/v1/changesets', { token: ws.agents[0]!.token, body });
    expect(res.status).toBe(201);
    const [event] = await harness.database.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.changeSetId, res.body.id))
      .limit(1);
    expect(event!.actor).toMatchObject({
      type: 'agent',
      agentId: ws.agents[0]!.id,
      onBehalfOf: { crmUserId: '4242', delegationId: delegation.id },
    });
  });

  it('takes a delegation only for the agent and the workspace it was given to', async () => {
    const [id] = contacts(1);
    const body = { ...submission([id!]), onBehalfOf: { crmUserId: '4343' } };
    const inOneHour = new Date(Date.now() + 3_600_000);
    // Given to the first agent, and to an agent of another workspace for the same person.
    await createDelegation(
      harness.deps,
      ws.workspaceId,
      { agentId: ws.agents[0]!.id, crmUserId: '4343', expiresAt: inOneHour },
      ADMIN,
    );
    const other = await seedWorkspace(harness, ['enrichment']);
    await createDelegation(
      harness.deps,
      other.workspaceId,
      { agentId: other.agents[0]!.id, crmUserId: '4343', expiresAt: inOneHour },
      ADMIN,
    );

    const secondAgent = await api(harness, 'POST', '/v1/changesets', { token: ws.agents[1]!.token, body });
    expect(secondAgent).toMatchObject({ status: 403, body: { error: { code: 'DELEGATION_INVALID' } } });
    // An agent id of this workspace given for the other workspace's agent is not found there.
    const crossed = createDelegation(
      harness.deps,
      other.workspaceId,
      { agentId: ws.agents[1]!.id, crmUserId: '4343', expiresAt: inOneHour },
      ADMIN,
    );
    await expect(crossed).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await api(harness, 'POST', '/v1/changesets', { token: ws.agents[1]!.token, body })).status).toBe(403);
  });

  it('refuses a delegation that has expired', async () => {
    let now = new Date('2026-11-23T10:00:00Z');
    harness.deps.clock = () => now;
    const [id] = contacts(1);
    await createDelegation(
      harness.deps,
      ws.workspaceId,
      { agentId: ws.agents[0]!.id, crmUserId: '5150', expiresAt: new Date('2026-11-23T11:00:00Z') },
      ADMIN,
    );
    now = new Date('2026-11-23T11:00:01Z');
    const res = await api(harness, 'POST', '/v1/changesets', {
      token: ws.agents[0]!.token,
      body: { ...submission([id!]), onBehalfOf: { crmUserId: '5150' } },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('DELEGATION_INVALID');
  });
});

describe('caps', () => {
  it('twenty parallel submissions cannot together exceed the agent’s daily cap', async () => {
    const policy = structuredClone(EXAMPLE_POLICY) as { caps: Record<string, number> };
    policy.caps = { ...policy.caps, writesPerAgentPerDay: 7 };
    await publishPolicy(harness.deps, ws.workspaceId, policy, ADMIN);
    const ids = contacts(20);
    const results = await Promise.all(
      ids.map((id, i) =>
        api(harness, 'POST', '/v1/changesets', { token: ws.agents[0]!.token, body: submission([id], `p${i}`) }),
      ),
    );
    const decisions = results.flatMap((res) => res.body.results);
    expect(decisions.filter((r) => r.decision === 'applied')).toHaveLength(7);
    const capped = decisions.filter((r) => r.decision === 'denied');
    expect(capped).toHaveLength(13);
    expect(capped.every((r) => r.reasons.includes('cap_agent_daily_writes_reached'))).toBe(true);
    expect(ids.filter((id) => recordValues(harness.hubspot.state, 'contacts', id)!.jobtitle === 'CTO')).toHaveLength(7);
  });

  it('the record cap counts every agent’s writes to that record', async () => {
    const policy = structuredClone(EXAMPLE_POLICY) as { caps: Record<string, number> };
    policy.caps = { ...policy.caps, writesPerRecordPerDay: 2 };
    await publishPolicy(harness.deps, ws.workspaceId, policy, ADMIN);
    const [id] = contacts(1);
    const write = (token: string, title: string) =>
      api(harness, 'POST', '/v1/changesets', {
        token,
        body: {
          batchId: title,
          objectType: 'contacts',
          changes: [{ recordId: id, properties: { jobtitle: title }, evidence }],
        },
      });
    expect((await write(ws.agents[0]!.token, 'A')).body.results[0].decision).toBe('applied');
    expect((await write(ws.agents[1]!.token, 'B')).body.results[0].decision).toBe('applied');
    expect((await write(ws.agents[0]!.token, 'C')).body.results[0]).toMatchObject({
      decision: 'denied',
      reasons: expect.arrayContaining(['cap_record_daily_writes_reached']),
    });
  });
});
