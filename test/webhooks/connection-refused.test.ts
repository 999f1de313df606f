import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertChannelSchema, createAlertRuleSchema } from '../../shared/alert-api.ts';
import { salesforceResolver } from '../../server/src/runtime.ts';
import {
  type RunningSalesforceSandbox,
  SANDBOX_SALESFORCE_CLIENT,
  startSalesforceSandbox,
} from '../../server/src/sandbox/salesforce/start.ts';
import { addClient, newId } from '../../server/src/sandbox/salesforce/state.ts';
import { addAlertChannel, addAlertRule } from '../../server/src/services/alerts/index.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import {
  changeWorkspace,
  createSalesforceWorkspace,
  recordCrmBudgetStop,
  recordCrmConnectionRefused,
  requireWorkspace,
} from '../../server/src/services/governance/index.ts';
import type { Database } from '../../server/src/store/database.ts';
import { setSalesforceSession } from '../../server/src/store/workspace-store.ts';
import { startHookReceiver, type HookReceiver } from '../support/alert-receivers.ts';
import { followSandboxChangeStreams } from '../support/change-streams.ts';
import { refusals as refusalsOf, runAlerts as runAlertsOf, sleep, until } from '../support/connection-refusals.ts';
import { createTestDatabase } from '../support/database.ts';
import { testDeps } from '../support/deps.ts';
import { LOOPBACK_NETWORKS, LOOPBACK_ORG_ADDRESSES, outboundAllowing } from '../support/outbound.ts';

// Issue 20, point 3: a revoked connection is reported and alerts, never retried for ever. When the
// org refuses our credentials outside a write (a token refreshed for a call, a change stream's
// sign-in), the refusal is audited once per credentials however many calls, rounds and servers
// meet it, the crm_auth_failed rule alerts on it, and new credentials refused are recorded again.
// The local Salesforce refuses the revoked External Client App as Salesforce does (invalid_grant);
// the database is PGlite or Postgres.
let database: Database;
let sandbox: RunningSalesforceSandbox;
let deps: ServiceDeps;
let slack: HookReceiver;
/** The recordings the adapter started, awaited before the audit log is read. */
const recordings: Promise<unknown>[] = [];
const ADMIN = { type: 'admin', via: 'cli', name: 'test' } as const;
const ROTATED = { clientId: 'rotated-app', clientSecret: 'rotated-secret' };

beforeAll(async () => {
  database = await createTestDatabase();
  sandbox = await startSalesforceSandbox({ port: 0 });
  addClient(sandbox.state, ROTATED);
  slack = await startHookReceiver();
  const base = testDeps(database.db);
  deps = {
    ...base,
    // The Slack stand-in listens on loopback.
    outbound: outboundAllowing(LOOPBACK_NETWORKS),
    crmFor: salesforceResolver({
      secrets: base.secrets,
      addresses: LOOPBACK_ORG_ADDRESSES,
      saveSession: (id, sealed) => setSalesforceSession(database.db, id, sealed),
      onBudgetStop: (id, usage) => recordCrmBudgetStop(deps, id, usage),
      onAuthRefused: (id, refusal) => {
        const recording = recordCrmConnectionRefused(deps, id, {
          crm: 'salesforce',
          ...refusal,
          seenBy: 'crm-adapter',
        });
        recordings.push(recording);
        return recording;
      },
    }),
  };
});
afterAll(async () => {
  await slack?.close();
  await sandbox?.close();
  await database?.close();
});

const refusals = (workspaceId: string) => refusalsOf(deps, workspaceId);
const runAlerts = () => runAlertsOf(deps);

describe('a connection the CRM refuses', () => {
  it('is audited once per credentials across calls, rounds and servers, alerts, and is recorded again for new credentials refused', async () => {
    const { id: workspaceId } = await createSalesforceWorkspace(
      deps,
      {
        name: 'Acme',
        connection: { loginUrl: sandbox.url, auth: { kind: 'client_credentials', ...SANDBOX_SALESFORCE_CLIENT } },
      },
      ADMIN,
    );
    await addAlertChannel(
      deps,
      workspaceId,
      createAlertChannelSchema.parse({ name: 'ops', kind: 'slack', url: slack.url }),
      ADMIN,
    );
    await addAlertRule(
      deps,
      workspaceId,
      createAlertRuleSchema.parse({ name: 'auth', kind: 'crm_auth_failed', channels: ['ops'] }),
      ADMIN,
    );
    const read = async () =>
      deps.crmFor(await requireWorkspace(deps, workspaceId)).readBatch({
        objectType: 'salesforce:Contact',
        recordIds: [newId('003', 1)],
        properties: ['LastName'],
      });
    await read();

    // The org revokes the app: its token stops working and a new one is refused. The first call
    // after it is refused (its token refreshed, refused) and audited; later ones send nothing.
    const revoked = await fetch(`${sandbox.url}/_sandbox/faults`, {
      method: 'PUT',
      body: JSON.stringify({ revokeClient: SANDBOX_SALESFORCE_CLIENT.clientId }),
    });
    expect(revoked.status).toBe(200);
    let requests = 0;
    let signIns = 0;
    sandbox.state.faults.hold = (request) => {
      requests++;
      if (request.path === '/services/oauth2/token') signIns++;
      return undefined;
    };
    await expect(read()).rejects.toMatchObject({ code: 'CRM_AUTH_FAILED', details: { revoked: true } });
    expect(signIns).toBe(1);
    const sent = requests;
    await expect(read()).rejects.toMatchObject({ code: 'CRM_AUTH_FAILED', details: { revoked: true } });
    expect(requests).toBe(sent);
    await Promise.all(recordings);
    const first = await refusals(workspaceId);
    expect(first).toEqual([
      {
        actor: { type: 'system', name: 'crm-adapter' },
        data: {
          crm: 'salesforce',
          accountId: sandbox.orgId,
          reason: 'invalid_grant',
          credentialsVersion: expect.stringMatching(/^[0-9a-f]{16}$/),
        },
      },
    ]);

    // Two servers follow the org's change stream: each signs in once with the refused app (the
    // second once the first's lease lapses), then leaves it alone round after round.
    signIns = 0;
    const a = followSandboxChangeStreams(deps, sandbox.pubSubEndpoint, 'server-a');
    const b = followSandboxChangeStreams(deps, sandbox.pubSubEndpoint, 'server-b');
    try {
      await until(
        () => signIns,
        (count) => count >= 2,
      );
      await sleep(1_000);
      expect(signIns).toBe(2);
      expect(await refusals(workspaceId)).toEqual(first);

      await runAlerts();
      expect(slack.received).toHaveLength(1);
      const text = String(slack.received[0]!.text);
      expect(text).toContain('CRM refused our credentials');
      expect(text).toContain(`salesforce account ${sandbox.orgId} refused our credentials when a call signed in`);
      expect(text).toContain(`workspace update --workspace ${workspaceId} --crm salesforce`);

      // New credentials, refused too (the second app revoked as well): the follower signs in once
      // with them, and that refusal is recorded again, as the change stream saw it.
      await b.stop();
      sandbox.state.clients.get(ROTATED.clientId)!.revoked = true;
      await changeWorkspace(
        deps,
        workspaceId,
        {
          crm: 'salesforce',
          salesforceConnection: { loginUrl: sandbox.url, auth: { kind: 'client_credentials', ...ROTATED } },
          verifyToken: false,
        },
        ADMIN,
      );
      const second = await until(
        () => refusals(workspaceId),
        (events) => events.length === 2,
      );
      expect(second[1]).toEqual({
        actor: { type: 'system', name: 'change-stream' },
        data: {
          crm: 'salesforce',
          accountId: sandbox.orgId,
          reason: 'invalid_grant',
          credentialsVersion: expect.stringMatching(/^[0-9a-f]{16}$/),
        },
      });
      expect((second[1]!.data as { credentialsVersion: string }).credentialsVersion).not.toBe(
        (first[0]!.data as { credentialsVersion: string }).credentialsVersion,
      );
      await sleep(1_000);
      expect(signIns).toBe(3);
      expect(await refusals(workspaceId)).toHaveLength(2);
      const audited = JSON.stringify(second);
      for (const secret of [SANDBOX_SALESFORCE_CLIENT.clientSecret, ROTATED.clientSecret])
        expect(audited).not.toContain(secret);
    } finally {
      sandbox.state.faults.hold = null;
      await a.stop();
      await b.stop();
    }
  }, 60_000);
});
