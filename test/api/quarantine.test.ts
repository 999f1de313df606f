import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CrmPort } from '../../server/src/crm/port.ts';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import {
  bootstrapWorkspace,
  claimAndRunQuarantine,
  setKillSwitch,
  unmarkClearedReviews,
} from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { testClock } from '../support/actions.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { runRollback, seedContacts, submitTitles } from '../support/rollbacks.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let clock: ReturnType<typeof testClock>;

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedWorkspace(harness, ['enrichment']);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
});
afterEach(() => harness.close());

const agent = () => ws.agents[0]!;
const needsReview = (id: string) => recordValues(harness.hubspot.state, 'contacts', id)?.ag_needs_review ?? '';
const stopAgent = () =>
  setKillSwitch(
    harness.deps,
    ws.workspaceId,
    { scope: 'agent', target: agent().id, engaged: true, reason: 'wrong titles' },
    ADMIN,
  );
const reviews = async () =>
  (await api(harness, 'GET', '/v1/admin/reviews', { token: ws.adminToken })).body.reviews as {
    recordId: string;
    markedInCrm: boolean;
  }[];
const titles = (ids: string[], title: string) => Object.fromEntries(ids.map((id) => [id, title]));
const eventTypes = async () =>
  (
    await harness.database.db
      .select({ type: auditEvents.type })
      .from(auditEvents)
      .where(eq(auditEvents.workspaceId, ws.workspaceId))
  ).map((event) => event.type);

describe('quarantine', () => {
  it('marks the records the stopped agent wrote within the window, and not older ones', async () => {
    const [old, recent] = seedContacts(harness, ['Engineer', 'Engineer']);
    await submitTitles(harness, agent().token, 'old', titles([old!], 'CTO'));
    clock.advanceHours(30); // past the default 24-hour window
    await submitTitles(harness, agent().token, 'recent', titles([recent!], 'CEO'));
    await stopAgent();
    expect(await claimAndRunQuarantine(harness.deps, { holder: 'worker' })).toBe('completed');

    expect(await reviews()).toEqual([expect.objectContaining({ recordId: recent, markedInCrm: true })]);
    expect(needsReview(recent!)).toBe('true');
    expect(needsReview(old!)).toBe('');
    expect(await eventTypes()).toEqual(
      expect.arrayContaining(['quarantine.started', 'quarantine.collected', 'quarantine.completed']),
    );
    expect(await claimAndRunQuarantine(harness.deps, { holder: 'worker' })).toBe('none');
  });

  it('takes its window from the policy', async () => {
    const [id] = seedContacts(harness, ['Engineer']);
    await submitTitles(harness, agent().token, 'b', titles([id!], 'CTO'));
    clock.advanceHours(3);
    const { publishPolicy } = await import('../../server/src/services/governance/index.ts');
    const { EXAMPLE_POLICY } = await import('../support/harness.ts');
    await publishPolicy(
      harness.deps,
      ws.workspaceId,
      { ...(EXAMPLE_POLICY as object), quarantine: { windowHours: 2 } },
      ADMIN,
    );
    await stopAgent();
    await claimAndRunQuarantine(harness.deps, { holder: 'worker' });
    expect(await reviews()).toEqual([]);
  });

  it('survives a restart mid-job: the next worker marks what the first left', async () => {
    const ids = seedContacts(
      harness,
      Array.from({ length: 150 }, () => 'Engineer'),
    );
    await submitTitles(harness, agent().token, 'big', titles(ids, 'CTO'));
    await stopAgent();
    // The first worker's process dies after its first CRM batch of marks.
    const real = harness.deps.crmFor;
    let marks = 0;
    const dying = {
      ...harness.deps,
      crmFor: (workspace: Parameters<typeof real>[0]): CrmPort => {
        const crm = real(workspace);
        return {
          ...crm,
          describeProperties: (t) => crm.describeProperties(t),
          ensureProperties: (input) => crm.ensureProperties(input),
          writeBatch: async (input) => {
            if (++marks === 2) throw new Error('process killed');
            return crm.writeBatch(input);
          },
        };
      },
    };
    await expect(claimAndRunQuarantine(dying, { holder: 'first', leaseMs: 60_000 })).rejects.toThrow('process killed');
    expect(ids.filter((id) => needsReview(id) === 'true')).toHaveLength(100);
    // Its lease still holds: nobody else takes the quarantine until it lapses.
    expect(await claimAndRunQuarantine(harness.deps, { holder: 'second' })).toBe('none');
    clock.advanceHours(1);
    expect(await claimAndRunQuarantine(harness.deps, { holder: 'second' })).toBe('completed');
    expect(ids.filter((id) => needsReview(id) === 'true')).toHaveLength(150);
    expect((await reviews()).every((review) => review.markedInCrm)).toBe(true);
    expect((await eventTypes()).filter((type) => type === 'quarantine.collected')).toHaveLength(1);
  });

  it('is cleared by a rollback that covers the record, and by a person, audited each time', async () => {
    const [rolled, reviewed, untouched] = seedContacts(harness, ['Engineer', 'Engineer', 'Engineer']);
    await submitTitles(harness, agent().token, 'bad', titles([rolled!], 'CTO'));
    await submitTitles(harness, agent().token, 'other', titles([reviewed!, untouched!], 'CEO'));
    await stopAgent();
    await claimAndRunQuarantine(harness.deps, { holder: 'worker' });
    expect((await reviews()).map((review) => review.recordId).sort()).toEqual([rolled, reviewed, untouched].sort());

    const started = await api(harness, 'POST', '/v1/admin/rollbacks', {
      token: ws.adminToken,
      body: { selector: { batchId: 'bad' } },
    });
    expect(await runRollback(harness, started.body.id)).toBe('completed');
    const cleared = await api(harness, 'POST', '/v1/admin/reviews/clear', {
      token: ws.adminToken,
      body: { objectType: 'contacts', recordId: reviewed },
    });
    expect(cleared.status).toBe(200);
    expect((await reviews()).map((review) => review.recordId)).toEqual([untouched]);
    await unmarkClearedReviews(harness.deps);
    expect([needsReview(rolled!), needsReview(reviewed!), needsReview(untouched!)]).toEqual(['', '', 'true']);

    const clearedEvents = await harness.database.db
      .select({ recordId: auditEvents.recordId, data: auditEvents.data, actor: auditEvents.actor })
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'review.cleared')));
    expect(clearedEvents).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ recordId: rolled, data: expect.objectContaining({ by: 'rollback' }) }),
        expect.objectContaining({ recordId: reviewed, data: expect.objectContaining({ by: 'person' }) }),
      ]),
    );
    const again = await api(harness, 'POST', '/v1/admin/reviews/clear', {
      token: ws.adminToken,
      body: { objectType: 'contacts', recordId: reviewed },
    });
    expect([again.status, again.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });
});
