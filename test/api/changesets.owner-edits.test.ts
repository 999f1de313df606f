import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { recoverInterruptedChangeSet } from '../../server/src/services/change-sets/index.ts';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { retryDueApplies } from '../../server/src/services/held/index.ts';
import { approvalItems, approvals, changeSets } from '../../server/src/store/schema.ts';
import { decide, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { callMcpTool } from '../support/mcp.ts';

/**
 * A database owner typing a change's decision by hand (issue 5): a value none of the decisions
 * is a damaged change set. It reaches no agent as a decision (500 naming it), and no job writes,
 * recovers or rolls back any of it by a guess.
 */
let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';
const evidence = { source: 'apollo', reason: 'profile says so', confidence: 0.95 };

let now: Date;

beforeEach(async () => {
  now = new Date('2026-11-23T15:00:00Z');
  harness = await startHarness({ clock: () => now });
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
});
afterEach(() => harness.close());

const contact = () => seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'x@example.com' } });
/** Two applied job titles, in one change set; its id and the changes' ids in order. */
async function submitTitles(recordIds: string[]): Promise<{ id: string; changeIds: string[] }> {
  const res = await api(harness, 'POST', '/v1/changesets', {
    token: ws.agents[0]!.token,
    body: {
      batchId: 'enrich-1',
      objectType: 'contacts',
      changes: recordIds.map((recordId) => ({ recordId, properties: { jobtitle: 'CTO' }, evidence })),
    },
  });
  expect(res.body.summary).toMatchObject({ applied: recordIds.length });
  return { id: res.body.id, changeIds: res.body.results.map((result: { changeId: string }) => result.changeId) };
}
/** What a database owner types in psql. */
const setDecision = (changeId: string, decision: string) =>
  harness.database.db.execute(sql`update changes set decision = ${decision} where id = ${changeId}`);
const damaged = (changeSetId: string, changeId: string) =>
  `Stored change set ${changeSetId} is damaged: its change ${changeId} has decision 'aproved', which is not one this server knows (it was changed in the database), so nothing reads or acts on the change set until the row is fixed.`;

describe('a change set whose stored decision a database owner edited to no decision at all', () => {
  it('is read back by its agent as a 500 naming it, over HTTP and MCP, and as before once the row is fixed', async () => {
    const changeSet = await submitTitles([contact()]);
    await setDecision(changeSet.changeIds[0]!, 'aproved');

    const read = await api(harness, 'GET', `/v1/changesets/${changeSet.id}`, { token: ws.agents[0]!.token });
    expect(read.status).toBe(500);
    expect(read.body.error).toEqual({
      code: 'INTERNAL',
      message: damaged(changeSet.id, changeSet.changeIds[0]!),
      requestId: expect.any(String),
    });
    const tool = await callMcpTool(harness, ws.agents[0]!.token, 'get_change_set', { changeSetId: changeSet.id });
    expect(tool.isError).toBe(true);
    expect(tool.texts.join('\n')).toContain(damaged(changeSet.id, changeSet.changeIds[0]!));

    await setDecision(changeSet.changeIds[0]!, 'applied');
    const fixed = await api(harness, 'GET', `/v1/changesets/${changeSet.id}`, { token: ws.agents[0]!.token });
    expect(fixed.status).toBe(200);
    expect(fixed.body.results[0]).toMatchObject({ decision: 'applied' });
  });

  it('is not recovered: nothing of it is written, and it waits for the row to be fixed', async () => {
    const ids = [contact(), contact()];
    const changeSet = await submitTitles(ids);
    // As a server that died before either write's outcome was stored would leave it, one decision then edited.
    await harness.database.db.execute(sql`update change_sets set status = 'applying', lease_holder = 'dead-server',
      lease_expires_at = ${new Date(now.getTime() - 60_000)} where id = ${changeSet.id}`);
    await setDecision(changeSet.changeIds[0]!, 'applying');
    await setDecision(changeSet.changeIds[1]!, 'aproved');
    // A value the CRM does not hold yet, so that recovery would send it again.
    await harness.database.db.execute(
      sql`update changes set proposed_value = 'VP' where id = ${changeSet.changeIds[0]!}`,
    );
    const writes = harness.hubspot.calls.count({ route: UPDATE });

    await expect(recoverInterruptedChangeSet(harness.deps)).rejects.toThrow(
      damaged(changeSet.id, changeSet.changeIds[1]!),
    );
    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(writes);
    expect(recordValues(harness.hubspot.state, 'contacts', ids[0]!)!.jobtitle).toBe('CTO');
    const [stored] = await harness.database.db
      .select({ status: changeSets.status })
      .from(changeSets)
      .where(eq(changeSets.id, changeSet.id));
    expect(stored!.status).toBe('applying');
  });

  it('is not planned into a rollback, nor dry-run: the rollback would pass the change over as not applied', async () => {
    const ids = [contact(), contact()];
    const changeSet = await submitTitles(ids);
    await setDecision(changeSet.changeIds[1]!, 'aproved');
    const writes = harness.hubspot.calls.count({ route: UPDATE });

    for (const dryRun of [true, false]) {
      const refused = await api(harness, 'POST', '/v1/admin/rollbacks', {
        token: ws.adminToken,
        body: { selector: { batchId: 'enrich-1' }, dryRun },
      });
      expect(refused.status).toBe(500);
      expect(refused.body.error).toMatchObject({
        code: 'INTERNAL',
        message: damaged(changeSet.id, changeSet.changeIds[1]!),
      });
    }
    expect(harness.hubspot.calls.count({ route: UPDATE })).toBe(writes);
    expect(ids.map((id) => recordValues(harness.hubspot.state, 'contacts', id)!.jobtitle)).toEqual(['CTO', 'CTO']);
  });

  it('held for a person, is not written when they approve it, and is once the row is fixed', async () => {
    await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
    const recordId = seedContact(harness, { phone: '+1 555 0100' });
    const approvalId = await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId,
      properties: { phone: '+1 555 0666' },
    });
    const [item] = await harness.database.db
      .select({ changeId: approvalItems.changeId, changeSetId: approvals.changeSetId })
      .from(approvalItems)
      .innerJoin(approvals, eq(approvals.id, approvalItems.approvalId))
      .where(eq(approvalItems.approvalId, approvalId));
    await setDecision(item!.changeId, 'aproved');

    const approved = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(approved.body).toMatchObject({
      status: 'approved',
      message: `Not written yet: ${damaged(item!.changeSetId, item!.changeId)}`,
    });
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).toBe('+1 555 0100');

    await setDecision(item!.changeId, 'pending_approval');
    now = new Date(now.getTime() + 60 * 60_000); // past the write's retry time
    await retryDueApplies(harness.deps);
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).toBe('+1 555 0666');
  });
});
