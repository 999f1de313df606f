import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { retryDueApplies } from '../../server/src/services/held/index.ts';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { bootstrapWorkspace, setKillSwitch } from '../../server/src/services/governance/index.ts';
import { approvals } from '../../server/src/store/schema.ts';
import { approvalEvents, decide, givePeopleRoles, seedContact } from '../support/approvals.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let now: Date;

beforeEach(async () => {
  now = new Date('2026-11-23T15:00:00Z');
  harness = await startHarness({ clock: () => now });
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
});
afterEach(() => harness.close());

/** The agent proposes a phone number (held for a person) citing `source`; the approval's id. */
async function proposePhone(recordId: string, source: string): Promise<string> {
  const res = await api(harness, 'POST', '/v1/changesets', {
    token: ws.agents[0]!.token,
    body: {
      batchId: 'enrich-1',
      objectType: 'contacts',
      changes: [{ recordId, properties: { phone: '+1 555 0199' }, evidence: { source, reason: 'a profile' } }],
    },
  });
  expect(res.status).toBe(201);
  const list = await api(harness, 'GET', `/v1/admin/approvals?record=${recordId}`, { token: ws.adminToken });
  return list.body.approvals[0].id as string;
}

const engage = (change: { scope: string; target?: string; condition?: unknown }, reason = 'bad data') =>
  setKillSwitch(harness.deps, ws.workspaceId, { ...change, engaged: true, reason } as never, ADMIN);
const release = (change: { scope: string; target?: string }) =>
  setKillSwitch(harness.deps, ws.workspaceId, { ...change, engaged: false, reason: 'fixed' } as never, ADMIN);
const stored = async (approvalId: string) =>
  (await harness.database.db.select().from(approvals).where(eq(approvals.id, approvalId)))[0]!;

describe('a kill switch and a held write a person approves', () => {
  it('an evidence-source switch engaged after the proposal stops the approved write until it is released', async () => {
    const [fromApollo, fromClearbit] = [seedContact(harness), seedContact(harness)];
    const apollo = await proposePhone(fromApollo, 'apollo');
    const clearbit = await proposePhone(fromClearbit, 'clearbit');
    await engage({ scope: 'evidence_source', target: 'apollo' });

    const stopped = await decide(harness, ws.adminToken, apollo, { kind: 'approve', actingUserId: '501' });
    expect(stopped.status).toBe(200);
    expect(stopped.body.status).toBe('approved');
    expect(stopped.body.message).toContain('evidence_source apollo');
    expect(recordValues(harness.hubspot.state, 'contacts', fromApollo)!.phone).toBeUndefined();
    expect(await approvalEvents(harness, fromApollo, 'approval.apply_failed')).toHaveLength(1);
    // Another source's write is not the switch's business.
    const written = await decide(harness, ws.adminToken, clearbit, { kind: 'approve', actingUserId: '501' });
    expect(written.body.status).toBe('applied');

    await release({ scope: 'evidence_source', target: 'apollo' });
    now = new Date(now.getTime() + 60 * 60_000);
    await retryDueApplies(harness.deps);
    expect((await stored(apollo)).status).toBe('applied');
    expect(recordValues(harness.hubspot.state, 'contacts', fromApollo)!.phone).toBe('+1 555 0199');
  });

  it('a segment switch by record condition stops an approved write on a record it matches', async () => {
    const customer = seedContact(harness, { lifecyclestage: 'customer' });
    const approvalId = await proposePhone(customer, 'clearbit');
    await engage({
      scope: 'segment',
      condition: { objectType: 'contacts', property: 'lifecyclestage', op: 'eq', value: 'customer' },
    });
    const res = await decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    expect(res.body).toMatchObject({ status: 'approved', message: expect.stringContaining('segment') });
    expect(recordValues(harness.hubspot.state, 'contacts', customer)!.phone).toBeUndefined();
  });

  it('a workspace switch engaged while the approval’s values are read is obeyed before the write', async () => {
    const recordId = seedContact(harness);
    const approvalId = await proposePhone(recordId, 'clearbit');
    const read = harness.hubspot.faults.hold('POST /crm/v3/objects/{type}/batch/read');
    const answer = decide(harness, ws.adminToken, approvalId, { kind: 'approve', actingUserId: '501' });
    await read.arrived;
    await engage({ scope: 'workspace' }, 'stop everything');
    read.release();
    const res = await answer;
    expect(res.body).toMatchObject({ status: 'approved', message: expect.stringContaining('stop everything') });
    expect(recordValues(harness.hubspot.state, 'contacts', recordId)!.phone).toBeUndefined();
    expect(harness.hubspot.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/update' })).toBe(0);
  });
});
