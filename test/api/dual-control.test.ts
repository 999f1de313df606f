import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePolicy, type Policy } from '../../shared/policy.ts';
import { policyChangeReasons } from '../../server/src/domain/dual-control.ts';
import { AppError } from '../../server/src/errors.ts';
import { verifyAudit, publishPolicy } from '../../server/src/services/governance/index.ts';
import type { Actor } from '../../server/src/services/common/index.ts';
import { auditEvents, governanceRequests } from '../../server/src/store/schema.ts';
import { givePeopleRoles } from '../support/approvals.ts';
import { api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

const DUAL = { killSwitchRelease: true, tierLowering: true, capRaiseShare: 0.25 };

function policy(overrides: object): Policy {
  const parsed = parsePolicy({ ...(EXAMPLE_POLICY as object), dualControl: DUAL, ...overrides });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.policy;
}

describe('which policy changes need a second admin', () => {
  const current = policy({
    caps: { writesPerAgentPerDay: 1_000, roleCaps: { enrichment: { writesPerRecordPerDay: 10 } } },
  });
  const codes = (next: Policy) => policyChangeReasons(current, next).map((reason) => reason.code);

  it('flags a tier moved lower for some role, a property newly allowed, and an action opened up', () => {
    const lowered = structuredClone(current);
    lowered.objects.contacts!.properties['phone'] = { enrichment: 'auto' };
    expect(policyChangeReasons(current, lowered)).toEqual([
      { code: 'tier_lowered', message: 'contacts.phone for enrichment agents moves from approval to auto.' },
    ]);
    const added = structuredClone(current);
    added.objects.contacts!.properties['website'] = { '*': 'approval' };
    expect(codes(added).filter((code) => code === 'tier_lowered').length).toBe(5); // deny → approval for every role
    const raised = structuredClone(current);
    raised.objects.contacts!.properties['phone'] = { enrichment: 'two_person' };
    expect(codes(raised)).toEqual([]);
  });

  it('flags a likely duplicate let through more easily, and a content rule removed or lowered, not one added or raised', () => {
    const onDuplicate = (tier: 'approval' | 'two_person') =>
      policy({
        ...current,
        objects: { ...current.objects, contacts: { ...current.objects.contacts!, onDuplicate: tier } },
      });
    // Refused (the default) is the strictest: holding a duplicate for people lets it through once they agree.
    expect(policyChangeReasons(current, onDuplicate('two_person'))).toEqual([
      { code: 'tier_lowered', message: 'A likely duplicate of existing contacts moves from deny to two_person.' },
    ]);
    expect(codes(onDuplicate('approval'))).toEqual(['tier_lowered']);
    expect(policyChangeReasons(onDuplicate('approval'), onDuplicate('two_person'))).toEqual([]);
    expect(policyChangeReasons(onDuplicate('two_person'), current)).toEqual([]);
    const rule = { name: 'No promises', kind: 'banned', phrases: ['guaranteed'], raiseTo: 'two_person' } as const;
    const guarded = policy({ ...current, content: [rule] });
    expect(policyChangeReasons(current, guarded)).toEqual([]);
    expect(policyChangeReasons(guarded, policy({ ...current, content: [{ ...rule, raiseTo: 'deny' }] }))).toEqual([]);
    expect(policyChangeReasons(guarded, policy({ ...current, content: [{ ...rule, raiseTo: 'approval' }] }))).toEqual([
      { code: 'tier_lowered', message: 'The content rule "No promises" raises drafts to approval, not two_person.' },
    ]);
    expect(policyChangeReasons(guarded, current)).toEqual([
      { code: 'tier_lowered', message: 'The content rule "No promises" is removed (it raised drafts to two_person).' },
    ]);
  });

  it('flags caps raised by more than the share or removed, not those raised within it', () => {
    expect(
      codes(policy({ caps: { writesPerAgentPerDay: 1_250, roleCaps: { enrichment: { writesPerRecordPerDay: 12 } } } })),
    ).toEqual([]);
    expect(
      policyChangeReasons(
        current,
        policy({ caps: { writesPerAgentPerDay: 1_251, roleCaps: { enrichment: { writesPerRecordPerDay: 10 } } } }),
      ),
    ).toEqual([{ code: 'cap_raised', message: 'writesPerAgentPerDay rises from 1000 to 1251, more than 25%.' }]);
    expect(codes(policy({ caps: { writesPerAgentPerDay: 1_000 } }))).toEqual(['cap_raised']);
  });

  it('flags weakening dual control itself, and asks nothing when the policy in force has none', () => {
    expect(codes(policy({ dualControl: { ...DUAL, killSwitchRelease: false }, caps: current.caps }))).toEqual([
      'dual_control_weakened',
    ]);
    const { dualControl: _none, ...withoutDual } = current;
    expect(policyChangeReasons({ ...withoutDual }, policy({ dualControl: undefined }))).toEqual([]);
  });
});

describe('dual control through the admin API', () => {
  let harness: Harness;
  let ws: Awaited<ReturnType<typeof seedWorkspace>>;

  beforeEach(async () => {
    harness = await startHarness();
    ws = await seedWorkspace(harness, ['enrichment']);
    expect(
      (
        await api(harness, 'POST', '/v1/admin/policies', {
          token: ws.adminToken,
          body: { ...(EXAMPLE_POLICY as object), dualControl: DUAL },
        })
      ).status,
    ).toBe(201);
    await givePeopleRoles(harness, ws.workspaceId, { '601': 'owner', '602': 'revops_admin', '603': 'approver' });
  });
  afterEach(() => harness.close());

  const killSwitch = (engaged: boolean) =>
    api(harness, 'PUT', '/v1/admin/kill-switches', {
      token: ws.adminToken,
      body: { scope: 'workspace', engaged, reason: engaged ? 'Bad batch' : 'Fixed' },
    });
  const decideRequest = (id: string, decision: string, actingUserId: string) =>
    api(harness, 'POST', `/v1/admin/governance-requests/${id}/${decision}`, {
      token: ws.adminToken,
      body: { actingUserId },
    });

  it('holds a workspace kill switch release until a second admin confirms it, audited with both', async () => {
    expect((await killSwitch(true)).status).toBe(200);
    const release = await killSwitch(false);
    expect(release).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'SECOND_ADMIN_REQUIRED',
          details: { requestId: expect.any(String), reasons: [{ code: 'kill_switch_release' }] },
        },
      },
    });
    const requestId = release.body.error.details.requestId as string;
    expect((await api(harness, 'GET', '/v1/admin/kill-switches', { token: ws.adminToken })).body.killSwitches).toEqual([
      expect.objectContaining({ scope: 'workspace', engaged: true }),
    ]);

    expect(await decideRequest(requestId, 'confirm', '603')).toMatchObject({
      status: 403,
      body: { error: { details: { refusal: 'role_cannot_confirm' } } },
    });
    const confirmed = await decideRequest(requestId, 'confirm', '601');
    expect(confirmed.body).toMatchObject({
      status: 'confirmed',
      decidedBy: 'person:601',
      requestedBy: 'admin:workspace-admin-token',
    });
    expect((await api(harness, 'GET', '/v1/admin/kill-switches', { token: ws.adminToken })).body.killSwitches).toEqual([
      expect.objectContaining({ scope: 'workspace', engaged: false }),
    ]);
    expect((await decideRequest(requestId, 'confirm', '602')).status).toBe(409);

    const types = (
      await harness.database.db.select().from(auditEvents).where(eq(auditEvents.workspaceId, ws.workspaceId))
    ).map((event) => event.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'governance.requested',
        'governance.refused',
        'governance.confirmed',
        'kill_switch.released',
      ]),
    );
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('never lets the person who asked confirm their own request, and lets either admin cancel it', async () => {
    const lowered = {
      ...(EXAMPLE_POLICY as object),
      dualControl: DUAL,
      objects: { contacts: { properties: { phone: { enrichment: 'auto' } } } },
    };
    // An owner asks through a path that names them (the HubSpot app's signed requests do).
    const owner: Actor = { type: 'person', name: 'crm-user:601', crmUserId: '601', role: 'owner', via: 'hubspot_app' };
    const refused = await publishPolicy(harness.deps, ws.workspaceId, lowered, owner).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'SECOND_ADMIN_REQUIRED', details: { reasons: [{ code: 'tier_lowered' }] } });
    const requestId = (refused as AppError & { details: { requestId: string } }).details.requestId;
    const [requested] = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, ws.workspaceId), eq(auditEvents.type, 'governance.requested')));
    expect(requested).toMatchObject({ actor: { crmUserId: '601' }, reasons: ['tier_lowered'] });
    expect(
      (await api(harness, 'GET', '/v1/admin/policies/active', { token: ws.adminToken })).body.policy.objects.contacts
        .properties.phone,
    ).toEqual({ enrichment: 'approval' });

    expect(await decideRequest(requestId, 'confirm', '601')).toMatchObject({
      status: 403,
      body: { error: { details: { refusal: 'same_person' } } },
    });
    expect((await decideRequest(requestId, 'cancel', '602')).body).toMatchObject({
      status: 'cancelled',
      decidedBy: 'person:602',
    });
    expect((await decideRequest(requestId, 'confirm', '602')).status).toBe(409);
    expect(
      (await api(harness, 'GET', '/v1/admin/governance-requests?status=cancelled', { token: ws.adminToken })).body
        .requests,
    ).toEqual([expect.objectContaining({ id: requestId, kind: 'policy_publish', requestedBy: 'person:601' })]);
  });

  it('publishes a lowered tier once confirmed, and lets changes that need no second admin through at once', async () => {
    const renamed = { ...(EXAMPLE_POLICY as object), dualControl: DUAL, name: 'Renamed, nothing loosened' };
    const first = await api(harness, 'POST', '/v1/admin/policies', { token: ws.adminToken, body: renamed });
    expect(first.status).toBe(201);
    const lowered = { ...renamed, objects: { contacts: { properties: { phone: { enrichment: 'auto' } } } } };
    const publish = await api(harness, 'POST', '/v1/admin/policies', { token: ws.adminToken, body: lowered });
    const confirmed = await decideRequest(publish.body.error.details.requestId, 'confirm', '602');
    expect(confirmed.body.status).toBe('confirmed');
    const active = await api(harness, 'GET', '/v1/admin/policies/active', { token: ws.adminToken });
    expect(active.body.version).toBe(first.body.version + 1);
    expect(active.body.policy.objects.contacts.properties.phone).toEqual({ enrichment: 'auto' });
  });

  it('keeps a request pending when its confirmation cannot take effect, so it can be confirmed again', async () => {
    const lowered = {
      ...(EXAMPLE_POLICY as object),
      dualControl: DUAL,
      objects: { contacts: { properties: { phone: { enrichment: 'auto' } } } },
    };
    const publish = await api(harness, 'POST', '/v1/admin/policies', { token: ws.adminToken, body: lowered });
    const requestId = publish.body.error.details.requestId;
    const before = (await api(harness, 'GET', '/v1/admin/policies/active', { token: ws.adminToken })).body.version;
    // While the workspace is stopped only an owner may change the policy: a RevOps admin's confirmation fails.
    expect((await killSwitch(true)).status).toBe(200);
    const refused = await decideRequest(requestId, 'confirm', '602');
    expect(refused.status).toBe(423);
    expect(refused.body.error.code).toBe('POLICY_LOCKED');
    const requests = await api(harness, 'GET', '/v1/admin/governance-requests', { token: ws.adminToken });
    expect(requests.body.requests).toEqual([expect.objectContaining({ id: requestId, status: 'pending' })]);
    expect((await api(harness, 'GET', '/v1/admin/policies/active', { token: ws.adminToken })).body.version).toBe(
      before,
    );

    const confirmed = await decideRequest(requestId, 'confirm', '601');
    expect(confirmed.body).toMatchObject({ status: 'confirmed', decidedBy: 'person:601' });
    const active = await api(harness, 'GET', '/v1/admin/policies/active', { token: ws.adminToken });
    expect(active.body.version).toBe(before + 1);
    expect(active.body.policy.objects.contacts.properties.phone).toEqual({ enrichment: 'auto' });
    const types = (
      await harness.database.db
        .select()
        .from(auditEvents)
        .where(eq(auditEvents.workspaceId, ws.workspaceId))
        .orderBy(auditEvents.seq)
    ).map((event) => event.type);
    const fromRequest = types.slice(types.indexOf('governance.requested'));
    expect(fromRequest.filter((type) => type.startsWith('governance.') || type === 'policy.published')).toEqual([
      'governance.requested',
      'governance.failed',
      'policy.published',
      'governance.confirmed',
    ]);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('refuses a second confirmation while one is being carried out, and frees a request whose confirmation died', async () => {
    await killSwitch(true);
    const requestId = (await killSwitch(false)).body.error.details.requestId;
    const holdUntil = (at: Date) =>
      harness.database.db
        .update(governanceRequests)
        .set({ confirmingUntil: at })
        .where(eq(governanceRequests.id, requestId));
    await holdUntil(new Date(Date.now() + 60_000));
    const busy = await decideRequest(requestId, 'confirm', '602');
    expect(busy.status).toBe(409);
    expect(busy.body.error.message).toMatch(/being confirmed right now/);
    // A server that died mid-confirmation leaves the hold behind; once it has run out, the request is free.
    await holdUntil(new Date(Date.now() - 1_000));
    expect((await decideRequest(requestId, 'confirm', '602')).body.status).toBe('confirmed');
    expect((await api(harness, 'GET', '/v1/admin/kill-switches', { token: ws.adminToken })).body.killSwitches).toEqual([
      expect.objectContaining({ scope: 'workspace', engaged: false }),
    ]);
  });
});
