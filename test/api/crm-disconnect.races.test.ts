import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../server/src/errors.ts';
import { type RunningSalesforceSandbox, startSalesforceSandbox } from '../../server/src/sandbox/salesforce/start.ts';
import {
  connectCrm,
  createWorkspace,
  disconnectCrm,
  policyInForce,
  publishPolicy,
} from '../../server/src/services/governance/index.ts';
import {
  followChangeStream,
  listStreamingWorkspaces,
  type OpenChangeStream,
} from '../../server/src/services/webhooks/index.ts';
import { crmEventStreams } from '../../server/src/store/crm-event-stream-schema.ts';
import { StreamLeaseLostError } from '../../server/src/store/crm-event-stream-store.ts';
import { webhookEvents } from '../../server/src/store/schema.ts';
import { ADMIN, startHarness, type Harness } from '../support/harness.ts';
import { hubspotOrSalesforce, sandboxSalesforceConnection } from '../support/salesforce.ts';

// Issue 20: a disconnection and what names the CRM it gives back, at the same moment, and two
// connections of one org at once. Each pair is
// ordered on a lock both sides take, so one of them refuses: a policy checked while the org was
// connected is not published once it is not, and a follower that listed the workspace just before
// the disconnection takes no lease and stores nothing. The interleavings are made, not timed.
let harness: Harness;
let sandbox: RunningSalesforceSandbox;
let workspaceId: string;

beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ port: 0, seed: false });
  harness = await startHarness({ hubspotOverHttp: true, crmFor: hubspotOrSalesforce });
  ({ id: workspaceId } = await createWorkspace(
    harness.deps,
    { name: 'Acme', hubspotPortalId: '4700', hubspotToken: harness.hubspot.accessToken },
    ADMIN,
  ));
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await sandbox?.close();
});

const connectOrg = () =>
  connectCrm(
    harness.deps,
    workspaceId,
    { crm: 'salesforce', connection: sandboxSalesforceConnection(sandbox.url) },
    ADMIN,
  );
const BOTH = {
  name: 'Both CRMs',
  timezone: 'UTC',
  objects: {
    contacts: { properties: { jobtitle: { enrichment: 'auto' } } },
    'salesforce:Contact': { properties: { Department: { enrichment: 'approval' } } },
  },
};

/** A promise and what settles it, to hold one side at a known point while the other runs. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const leaseRows = () =>
  harness.database.db.select().from(crmEventStreams).where(eq(crmEventStreams.workspaceId, workspaceId));

describe('a disconnection at the same moment as', () => {
  it('a publish naming the org’s objects: the publish checked before it is refused after it', async () => {
    await connectOrg();
    // The publish reads the workspace, then asks the org for its fields: held there, it has
    // checked a connected org, and the disconnection runs to its end before it goes on.
    const describing = gate();
    const release = gate();
    sandbox.state.faults.hold = (request) => {
      if (!request.path.endsWith('/sobjects/Contact/describe')) return undefined;
      describing.open();
      return release.opened;
    };
    const publishing = publishPolicy(harness.deps, workspaceId, BOTH, ADMIN).then(
      (published) => published,
      (error: unknown) => error,
    );
    await describing.opened;
    sandbox.state.faults.hold = null;
    expect(await disconnectCrm(harness.deps, workspaceId, 'salesforce', ADMIN)).toMatchObject({
      crm: 'salesforce',
      accountId: sandbox.orgId,
    });
    release.open();

    const outcome = await publishing;
    expect(outcome).toBeInstanceOf(AppError);
    expect(outcome).toMatchObject({
      code: 'POLICY_INVALID',
      details: {
        issues: [
          'objects.salesforce:Contact: salesforce:Contact is an object of a CRM this workspace is not connected to',
        ],
      },
    });
    expect(await policyInForce(harness.database.db, workspaceId)).toBeUndefined();
  });

  it('a change-stream follower starting from the round before it: no lease is taken, nothing is opened or stored', async () => {
    await connectOrg();
    const listed = (await listStreamingWorkspaces(harness.deps)).find((workspace) => workspace.id === workspaceId);
    const connection = listed?.connections.find((each) => each.crm === 'salesforce');
    expect(connection).toMatchObject({ accountId: sandbox.orgId });
    await disconnectCrm(harness.deps, workspaceId, 'salesforce', ADMIN);

    let opened = 0;
    const open: OpenChangeStream = async () => {
      opened++;
      return { done: Promise.resolve(), close() {} };
    };
    const end = await followChangeStream(harness.deps, { workspaceId, connection: connection!, holder: 'late', open });
    expect(end).toBe('disconnected');
    expect(opened).toBe(0);
    expect(await leaseRows()).toEqual([]);
  });

  it('a follower that took the lease before it: the batch it stores after it is refused', async () => {
    const { accountId } = await connectOrg();
    const batch = {
      topic: '/data/ContactChangeEvent',
      sequence: 1n,
      position: 'AAAA',
      events: [
        {
          objectType: 'salesforce:Contact',
          recordId: '003000000000001AAA',
          property: 'Department',
          value: 'Sales',
          recordEvent: null,
          occurredAt: new Date(Date.now() + 60_000),
          source: 'person' as const,
          sourceId: '005000000000001AAA',
          origin: 'a person in Lightning',
        },
      ],
      reread: null,
    };
    const open: OpenChangeStream = async (_positions, onBatch) => ({
      done: (async () => {
        await disconnectCrm(harness.deps, workspaceId, 'salesforce', ADMIN);
        await onBatch(batch, 0);
      })(),
      close() {},
    });
    const following = followChangeStream(harness.deps, {
      workspaceId,
      connection: { crm: 'salesforce', accountId },
      holder: 'early',
      open,
    });
    await expect(following).rejects.toBeInstanceOf(StreamLeaseLostError);
    expect(
      await harness.database.db.select().from(webhookEvents).where(eq(webhookEvents.workspaceId, workspaceId)),
    ).toEqual([]);
  });
});

describe('two connections of the org to one workspace at once', () => {
  it('connects it once and tells the other the workspace has it, not that another workspace does', async () => {
    // The second sign-in is held until the first connection is stored: it then finds the org taken, by this workspace.
    const first = gate();
    let tokenRequests = 0;
    sandbox.state.faults.hold = (request) =>
      request.path === '/services/oauth2/token' && ++tokenRequests === 2 ? first.opened : undefined;
    const connects = [connectOrg(), connectOrg()].map((connecting) =>
      connecting.then(
        (connected) => ({ connected }),
        (error: unknown) => ({ error }),
      ),
    );
    expect(await Promise.race(connects)).toEqual({
      connected: { workspaceId, crm: 'salesforce', accountId: sandbox.orgId },
    });
    first.open();
    const outcomes = await Promise.all(connects);
    const refused = outcomes.find((outcome) => 'error' in outcome)?.error;
    sandbox.state.faults.hold = null;
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({
      code: 'CONFLICT',
      details: { reason: 'already_connected', crm: 'salesforce', accountId: sandbox.orgId },
    });
    await disconnectCrm(harness.deps, workspaceId, 'salesforce', ADMIN);
  });
});
