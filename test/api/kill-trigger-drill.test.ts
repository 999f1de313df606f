import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishPolicy } from '../../server/src/services/governance/index.ts';
import { killSwitches } from '../../server/src/store/schema.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

describe('POST /v1/admin/kill-triggers/drill', () => {
  let harness: Harness;
  let ws: Awaited<ReturnType<typeof seedWorkspace>>;
  beforeAll(async () => {
    harness = await startHarness();
    ws = await seedWorkspace(harness, ['enrichment']);
    await publishPolicy(
      harness.deps,
      ws.workspaceId,
      {
        ...(EXAMPLE_POLICY as object),
        monitoring: {
          killTriggers: {
            bypassWrites: { threshold: 5 },
            writeVelocity: { perMinute: 100 },
            rejectionRate: { threshold: 0.5, minDecided: 10 },
          },
        },
      },
      ADMIN,
    );
  });
  afterAll(() => harness.close());

  it('says which switch a count over the threshold would engage, and engages nothing', async () => {
    const agentId = ws.agents[0]!.id;
    const res = await api(harness, 'POST', '/v1/admin/kill-triggers/drill', {
      token: ws.adminToken,
      body: { trigger: 'write_velocity', agentId, count: 150 },
    });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      trigger: 'write_velocity',
      configured: { perMinute: 100 },
      observed: 150,
      engaged: false,
      wouldEngage: [{ scope: 'agent', target: agentId, reason: expect.stringContaining('150') }],
    });
    expect(
      await harness.deps.db.select().from(killSwitches).where(eq(killSwitches.workspaceId, ws.workspaceId)),
    ).toEqual([]);
  });

  it('reports that nothing would happen under the threshold, and that unattributed bypasses stop the workspace', async () => {
    const under = await api(harness, 'POST', '/v1/admin/kill-triggers/drill', {
      token: ws.adminToken,
      body: { trigger: 'bypass_writes', count: 5 },
    });
    const over = await api(harness, 'POST', '/v1/admin/kill-triggers/drill', {
      token: ws.adminToken,
      body: { trigger: 'bypass_writes', count: 6 },
    });

    expect(under.body.wouldEngage).toEqual([]);
    expect(over.body.wouldEngage).toEqual([expect.objectContaining({ scope: 'workspace', target: null })]);
  });

  it('drills the rejection rate of a batch: over the share with enough decided, and not before', async () => {
    const agentId = ws.agents[0]!.id;
    const drill = (count: number, decided: number) =>
      api(harness, 'POST', '/v1/admin/kill-triggers/drill', {
        token: ws.adminToken,
        body: { trigger: 'rejection_rate', agentId, batchId: 'b-9', count, decided },
      });
    expect((await drill(6, 10)).body).toMatchObject({
      configured: { threshold: 0.5, minDecided: 10 },
      wouldEngage: [{ scope: 'agent', target: agentId, reason: expect.stringContaining('6 of 10') }],
    });
    expect((await drill(5, 10)).body.wouldEngage).toEqual([]);
    expect((await drill(9, 9)).body.wouldEngage).toEqual([]);
  });

  it('refuses a drill without the admin token, of an unknown trigger, and an incomplete rejection-rate drill', async () => {
    expect(
      (await api(harness, 'POST', '/v1/admin/kill-triggers/drill', { body: { trigger: 'bypass_writes', count: 1 } }))
        .status,
    ).toBe(401);
    expect(
      (
        await api(harness, 'POST', '/v1/admin/kill-triggers/drill', {
          token: ws.adminToken,
          body: { trigger: 'vibes', count: 1 },
        })
      ).status,
    ).toBe(400);
    const res = await api(harness, 'POST', '/v1/admin/kill-triggers/drill', {
      token: ws.adminToken,
      body: { trigger: 'rejection_rate', count: 1 },
    });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
  });
});
