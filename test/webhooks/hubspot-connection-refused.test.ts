import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAlertChannelSchema, createAlertRuleSchema } from '../../shared/alert-api.ts';
import { addAlertChannel, addAlertRule } from '../../server/src/services/alerts/index.ts';
import { bootstrapWorkspace, changeWorkspace, requireWorkspace } from '../../server/src/services/governance/index.ts';
import { syncApprovalMirror } from '../../server/src/services/held/index.ts';
import { startHookReceiver, type HookReceiver } from '../support/alert-receivers.ts';
import { givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { refusals, runAlerts, until } from '../support/connection-refusals.ts';
import { ADMIN, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

// Issue 20, point 3, on HubSpot: a private app's token revoked or deleted is answered 401
// INVALID_AUTHENTICATION on every call. The first 401 of any call (here the approval mirror's job
// and a read) is audited once per token and alerts through crm_auth_failed; the adapter then sends
// nothing until `workspace update` gives a new token. The fake HubSpot accepts one token, as an
// account does once its app's token is rotated; the database is PGlite or Postgres.
let harness: Harness;
let slack: HookReceiver;
let now: Date;

beforeEach(async () => {
  now = new Date();
  harness = await startHarness({ clock: () => now, recordHubSpotRefusals: true });
  slack = await startHookReceiver();
});
afterEach(async () => {
  await slack.close();
  await harness.close();
});

describe('a HubSpot token the account refuses', () => {
  it('is audited once over the job’s rounds, alerts once, sends nothing more, and a new token is asked again', async () => {
    const ws = await seedWorkspace(harness, ['enrichment']);
    await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
    await givePeopleRoles(harness, ws.workspaceId, { '501': 'approver' });
    await addAlertChannel(
      harness.deps,
      ws.workspaceId,
      createAlertChannelSchema.parse({ name: 'ops', kind: 'slack', url: slack.url }),
      ADMIN,
    );
    await addAlertRule(
      harness.deps,
      ws.workspaceId,
      createAlertRuleSchema.parse({ name: 'auth', kind: 'crm_auth_failed', channels: ['ops'] }),
      ADMIN,
    );
    const recordId = seedContact(harness);
    await proposeHeld(harness, {
      token: ws.agents[0]!.token,
      adminToken: ws.adminToken,
      recordId,
      properties: { phone: '+1 555 0199' },
    });
    const read = async () =>
      harness.deps
        .crmFor(await requireWorkspace(harness.deps, ws.workspaceId))
        .readBatch({ objectType: 'contacts', recordIds: [recordId], properties: ['phone'] });

    // The portal's admin rotates the app's token: the one we hold is refused from now on.
    const calls = harness.hubspot.calls;
    harness.hubspot.state.accessToken = 'pat-na1-rotated';
    const before = calls.count();
    for (let round = 0; round < 3; round++) {
      const mirrored = await syncApprovalMirror(harness.deps);
      expect(mirrored).toMatchObject({ written: 0, failed: [{ workspaceId: ws.workspaceId }] });
      now = new Date(now.getTime() + 10 * 60_000); // past the mirror's backoff: due again
    }
    await expect(read()).rejects.toMatchObject({
      code: 'CRM_AUTH_FAILED',
      details: { status: 401, category: 'INVALID_AUTHENTICATION' },
    });
    expect(calls.count() - before).toBe(1);
    expect(calls.count({ status: 401 })).toBe(1);

    const workspace = await requireWorkspace(harness.deps, ws.workspaceId);
    const recorded = await until(
      () => refusals(harness.deps, ws.workspaceId),
      (events) => events.length > 0,
    );
    expect(recorded).toEqual([
      {
        actor: { type: 'system', name: 'crm-adapter' },
        data: {
          crm: 'hubspot',
          accountId: workspace.hubspotPortalId,
          reason: 'INVALID_AUTHENTICATION',
          credentialsVersion: expect.stringMatching(/^[0-9a-f]{16}$/),
        },
      },
    ]);
    await runAlerts(harness.deps);
    expect(slack.received).toHaveLength(1);
    const text = String(slack.received[0]!.text);
    expect(text).toContain(`hubspot account ${workspace.hubspotPortalId} refused our credentials`);
    expect(text).toContain(`workspace update --workspace ${ws.workspaceId} --crm hubspot`);
    expect(JSON.stringify(recorded)).not.toContain(harness.hubspot.accessToken);

    // The new token stored (seedWorkspace's portal id is not the fake's, so it is not checked): a
    // new adapter asks HubSpot again and the mirror catches up.
    await changeWorkspace(
      harness.deps,
      ws.workspaceId,
      { crm: 'hubspot', hubspotToken: 'pat-na1-rotated', verifyToken: false },
      ADMIN,
    );
    expect((await syncApprovalMirror(harness.deps)).written).toBe(1);
    expect(await read()).toHaveLength(1);
    expect(calls.count({ status: 401 })).toBe(1);
    expect(await refusals(harness.deps, ws.workspaceId)).toHaveLength(1);
  }, 30_000);
});
