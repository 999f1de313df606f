import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSampled, sampleRate } from '../../server/src/domain/qa-sampling.ts';
import { verifyAudit, bootstrapWorkspace, publishPolicy } from '../../server/src/services/governance/index.ts';
import { editAsPerson, recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { givePeopleRoles } from '../support/approvals.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { runRollback, seedContacts, submitTitles } from '../support/rollbacks.ts';

describe('which auto writes are sampled', () => {
  it('decides per change id, the same way every time, close to the rate over many changes', () => {
    const ids = Array.from({ length: 20_000 }, () => randomUUID());
    const first = ids.map((id) => isSampled(id, 0.2));
    expect(ids.map((id) => isSampled(id, 0.2))).toEqual(first);
    expect(first.filter(Boolean).length / ids.length).toBeGreaterThan(0.18);
    expect(first.filter(Boolean).length / ids.length).toBeLessThan(0.22);
    expect(ids.filter((id) => isSampled(id, 0)).length).toBe(0);
    expect(ids.every((id) => isSampled(id, 1))).toBe(true);
    // A higher rate keeps every change a lower rate took: raising the share never drops one.
    expect(ids.every((id) => !isSampled(id, 0.05) || isSampled(id, 0.2))).toBe(true);
  });

  it('uses the new-agent rate during the agent’s first days, then the role’s rate; unnamed roles are not sampled', () => {
    const settings = { sampling: { enrichment: { rate: 0.05, newAgent: { days: 21, rate: 0.2 } } } };
    const createdAt = new Date('2026-11-01T00:00:00Z');
    expect(
      sampleRate(settings, { role: 'enrichment', agentCreatedAt: createdAt, now: new Date('2026-11-21T23:00:00Z') }),
    ).toBe(0.2);
    expect(
      sampleRate(settings, { role: 'enrichment', agentCreatedAt: createdAt, now: new Date('2026-11-22T00:00:00Z') }),
    ).toBe(0.05);
    expect(sampleRate(settings, { role: 'routing', agentCreatedAt: createdAt, now: createdAt })).toBe(0);
    expect(sampleRate(undefined, { role: 'enrichment', agentCreatedAt: createdAt, now: createdAt })).toBe(0);
  });
});

describe('the QA review queue', () => {
  let harness: Harness;
  let ws: Awaited<ReturnType<typeof seedWorkspace>>;

  beforeEach(async () => {
    harness = await startHarness();
    ws = await seedWorkspace(harness, ['enrichment']);
    await publishPolicy(
      harness.deps,
      ws.workspaceId,
      { ...(EXAMPLE_POLICY as object), qa: { sampling: { enrichment: { rate: 1 } } } },
      ADMIN,
    );
    await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
    await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver', '1001': 'rep' });
  });
  afterEach(() => harness.close());

  const reviews = async (query = '') =>
    (await api(harness, 'GET', `/v1/admin/qa/reviews${query}`, { token: ws.adminToken })).body.reviews as {
      id: string;
      recordId: string;
      status: string;
      applied: string;
      before: string;
      rollbackId: string | null;
    }[];
  const verdict = (id: string, body: object) =>
    api(harness, 'POST', `/v1/admin/qa/reviews/${id}/verdict`, { token: ws.adminToken, body });

  it('queues the sampled auto writes only, already live; a wrong one is reverted through a rollback, and error rates are reported', async () => {
    const [a, b, c] = seedContacts(harness, ['Engineer', 'Designer', 'Analyst']);
    const submitted = await submitTitles(harness, ws.agents[0]!.token, 'enrich-qa', {
      [a!]: 'CTO',
      [b!]: 'CEO',
      [c!]: 'CFO',
    });
    expect(submitted.results.every((result) => result.decision === 'applied')).toBe(true);

    const open = await reviews('?status=open');
    expect(open.map((review) => review.recordId).sort()).toEqual([a, b, c].sort());
    expect(open.find((review) => review.recordId === a)).toMatchObject({
      before: 'Engineer',
      applied: 'CTO',
      status: 'open',
      rollbackId: null,
    });
    expect(recordValues(harness.hubspot.state, 'contacts', a!)!.jobtitle).toBe('CTO');

    const byRecord = new Map(open.map((review) => [review.recordId, review.id]));
    expect((await verdict(byRecord.get(a!)!, { actingUserId: '501', verdict: 'correct' })).body).toMatchObject({
      status: 'correct',
      reviewedBy: '501',
    });
    const wrong = await verdict(byRecord.get(b!)!, { actingUserId: '501', verdict: 'wrong', note: 'Not the CEO' });
    expect(wrong.body).toMatchObject({ status: 'wrong', note: 'Not the CEO', rollbackId: expect.any(String) });
    expect(await runRollback(harness, wrong.body.rollbackId)).toBe('completed');
    expect(recordValues(harness.hubspot.state, 'contacts', b!)!.jobtitle).toBe('Designer');
    expect(recordValues(harness.hubspot.state, 'contacts', a!)!.jobtitle).toBe('CTO');

    const rates = await api(harness, 'GET', '/v1/admin/qa/error-rates', { token: ws.adminToken });
    expect(rates.body.agents).toEqual([
      { agentId: ws.agents[0]!.id, agentName: 'enrichment-agent', open: 1, correct: 1, wrong: 1, errorRate: 0.5 },
    ]);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('keeps a later edit by a person when a wrong write is reverted', async () => {
    const [a] = seedContacts(harness, ['Engineer']);
    await submitTitles(harness, ws.agents[0]!.token, 'enrich-qa', { [a!]: 'CTO' });
    editAsPerson(harness.hubspot.state, {
      objectType: 'contacts',
      recordId: a!,
      properties: { jobtitle: 'Head of Platform' },
      userId: 42,
    });
    const [review] = await reviews();
    const wrong = await verdict(review!.id, { actingUserId: '501', verdict: 'wrong' });
    await runRollback(harness, wrong.body.rollbackId);
    expect(recordValues(harness.hubspot.state, 'contacts', a!)!.jobtitle).toBe('Head of Platform');
  });

  it('takes one verdict per write, from a person who may review, and answers 404 for another workspace’s review', async () => {
    const [a] = seedContacts(harness, ['Engineer']);
    await submitTitles(harness, ws.agents[0]!.token, 'enrich-qa', { [a!]: 'CTO' });
    const [review] = await reviews();
    expect(await verdict(review!.id, { actingUserId: '1001', verdict: 'correct' })).toMatchObject({
      status: 403,
      body: { error: { details: { refusal: 'role_cannot_decide' } } },
    });
    expect(await verdict(review!.id, { actingUserId: '999', verdict: 'correct' })).toMatchObject({
      status: 403,
      body: { error: { details: { refusal: 'person_unknown' } } },
    });
    expect((await verdict(review!.id, { actingUserId: '501', verdict: 'correct' })).status).toBe(200);
    expect(await verdict(review!.id, { actingUserId: '501', verdict: 'wrong' })).toMatchObject({ status: 409 });
    expect((await verdict(review!.id, { actingUserId: '501', verdict: 'maybe' })).status).toBe(400);
    const other = await seedWorkspace(harness, ['enrichment']);
    expect(
      (
        await api(harness, 'POST', `/v1/admin/qa/reviews/${review!.id}/verdict`, {
          token: other.adminToken,
          body: { actingUserId: '501', verdict: 'correct' },
        })
      ).status,
    ).toBe(404);
  });
});
