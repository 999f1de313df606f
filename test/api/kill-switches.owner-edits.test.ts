import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { decide, EVIDENCE, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { consoleCall, signInPeople } from '../support/console.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { runRollback, seedContacts, submitTitles } from '../support/rollbacks.ts';

/**
 * A database owner typing a kill switch row by hand (issue 21): a row this server does not
 * understand (a scope misspelt, or one a newer version wrote; a segment whose condition does not
 * parse) fails closed, stopping every agent and action as the workspace switch does, and its
 * refusal names the row to fix. Listing switches still shows it.
 */
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
});
afterEach(() => harness.close());

/** What a database owner types in psql. */
const insertSwitch = (row: { scope: string; target?: string; condition?: unknown }) =>
  harness.database.db.execute(sql`
    insert into kill_switches (workspace_id, scope, target, condition, engaged, reason, changed_by, changed_at)
    values (${ws.workspaceId}, ${row.scope}, ${row.target ?? ''},
      ${row.condition === undefined ? null : JSON.stringify(row.condition)}::jsonb, true, 'walk test', 'psql', now())`);
const releaseByHand = (scope: string) =>
  harness.database.db.execute(
    sql`update kill_switches set engaged = false where workspace_id = ${ws.workspaceId} and scope = ${scope}`,
  );

const UNKNOWN_SCOPE =
  "The stored kill switch with scope 'wrkspace' and no target is not understood (its scope is not one this server knows), so while engaged it stops every agent and action in this workspace until its row is fixed or released.";
const BAD_CONDITION = { objectType: 'contacts', property: 'lifecyclestage', op: 'is_roughly', value: 'customer' };
const BAD_SEGMENT = `The stored kill switch with scope 'segment' and target 'record:x' is not understood (its condition does not parse), so while engaged it stops every agent and action in this workspace until its row is fixed or released.`;

const submitTitle = (recordId: string, title: string) =>
  api(harness, 'POST', '/v1/changesets', {
    token: ws.agents[0]!.token,
    body: {
      batchId: `title-${title}`,
      objectType: 'contacts',
      changes: [{ recordId, properties: { jobtitle: title }, evidence: EVIDENCE }],
    },
  });

describe('a kill switch row this server does not understand', () => {
  it('with an unknown scope, refuses every agent call as the workspace switch does, naming the row; released, it stops nothing', async () => {
    const recordId = seedContact(harness);
    await insertSwitch({ scope: 'wrkspace' });

    const refused = await submitTitle(recordId, 'CTO');
    expect(refused.status).toBe(423);
    expect(refused.body.error).toMatchObject({
      code: 'KILL_SWITCH_ENGAGED',
      message: `A workspace kill switch is engaged: ${UNKNOWN_SCOPE} Its reason: walk test. Agent tokens are suspended until it is released.`,
      details: { scope: 'workspace', tokensSuspended: true },
    });
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.jobtitle).toBeUndefined();

    await releaseByHand('wrkspace');
    expect((await submitTitle(recordId, 'CTO')).body.results[0]).toMatchObject({ decision: 'applied' });
  });

  it('engaged while a change set reads the CRM, stops its writes before the first one, saying why', async () => {
    const recordId = seedContact(harness);
    const read = harness.hubspot.faults.hold('POST /crm/v3/objects/{type}/batch/read');
    const submitted = submitTitle(recordId, 'CTO');
    await read.arrived;
    await insertSwitch({ scope: 'wrkspace' });
    read.release();

    const result = (await submitted).body.results[0];
    expect(result).toMatchObject({ decision: 'failed', reasons: ['tier_auto', 'kill_switch_engaged'] });
    expect(result.message).toBe(`Not written: a kill switch was engaged (${UNKNOWN_SCOPE} Its reason: walk test).`);
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.jobtitle).toBeUndefined();
  });

  it('a scoped switch whose target was typed with capitals and spaces still stops what it names', async () => {
    const recordId = seedContact(harness);
    await insertSwitch({ scope: 'evidence_source', target: ' Clearbit ' });

    const refused = (await submitTitle(recordId, 'CTO')).body.results[0];
    expect(refused).toMatchObject({ decision: 'denied', reasons: ['kill_switch_engaged'] });
    expect(refused.message).toContain('evidence_source clearbit');
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.jobtitle).toBeUndefined();
  });

  it('a segment whose condition does not parse stops a write a person approves from being applied', async () => {
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId,
      properties: { phone: '+1 555 0666' },
    });
    await insertSwitch({ scope: 'segment', target: 'record:x', condition: BAD_CONDITION });

    const approved = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'approved',
      message: `Not written yet: a kill switch is engaged (${BAD_SEGMENT} Its reason: walk test).`,
    });
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).toBe('+1 555 0100');
  });

  it('with an unknown scope, pauses a rollback before it writes, saying why', async () => {
    const ids = seedContacts(harness, ['Engineer 0', 'Engineer 1']);
    await submitTitles(harness, ws.agents[0]!.token, 'enrich-1', Object.fromEntries(ids.map((id) => [id, 'CTO'])));
    await insertSwitch({ scope: 'wrkspace' });
    const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ws.adminToken,
      body: { selector: { batchId: 'enrich-1' } },
    });

    expect(await runRollback(harness, started.body.id)).toBe('paused');
    const rollback = await api(harness, 'GET', `/v1/admin/rollbacks/${started.body.id}`, { token: ws.adminToken });
    expect(rollback.body).toMatchObject({ status: 'paused', done: 0 });
    expect(rollback.body.statusReason).toContain(UNKNOWN_SCOPE);
    expect(ids.map((id) => recordValues(harness.hubspot.state, 'contacts', id)!.jobtitle)).toEqual(['CTO', 'CTO']);
  });

  it('is listed as stored, saying it is not understood, its unparsable condition left out', async () => {
    await insertSwitch({ scope: 'wrkspace' });
    await insertSwitch({ scope: 'segment', target: 'record:x', condition: BAD_CONDITION });
    await insertSwitch({ scope: 'action', target: 'fild_write' });

    const listed = await api(harness, 'GET', '/v1/admin/kill-switches', { token: ws.adminToken });
    expect(listed.status).toBe(200);
    const byScope = Object.fromEntries(
      listed.body.killSwitches.map((entry: { scope: string }) => [entry.scope, entry] as const),
    );
    expect(byScope.wrkspace).toEqual({
      scope: 'wrkspace',
      target: null,
      engaged: true,
      reason: 'walk test',
      changedBy: 'psql',
      changedAt: expect.any(String),
      notUnderstood: UNKNOWN_SCOPE,
    });
    expect(byScope.segment).toMatchObject({ target: 'record:x', notUnderstood: BAD_SEGMENT });
    expect(byScope.segment).not.toHaveProperty('condition');
    expect(byScope.action.notUnderstood).toContain('its target is not an action kind this server knows');
  });

  it('shows in the console: its inbox says everything is stopped and why, its settings list the row', async () => {
    const cookie = (await signInPeople(harness, ws.workspaceId, { '1': 'owner' }))['1']!;
    const read = async (path: string) => (await (await consoleCall(harness, cookie, 'GET', path)).json()) as any;
    await insertSwitch({ scope: 'wrkspace' });

    expect((await read('/console/api/inbox')).killSwitches).toEqual([
      {
        scope: 'workspace',
        target: null,
        reason: `${UNKNOWN_SCOPE} Its reason: walk test`,
        changedAt: expect.any(String),
      },
    ]);
    expect((await read('/console/api/settings')).killSwitches).toEqual([
      expect.objectContaining({ scope: 'wrkspace', engaged: true, notUnderstood: UNKNOWN_SCOPE }),
    ]);
  });
});
