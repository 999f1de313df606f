import { createSalesforceSandboxServer } from './http-server.ts';
import { type ChangeEventBus, startPubSubSandbox, UI_CLIENT, type RecordChange } from './pubsub/index.ts';
import type { SandboxRecordChange } from './record-changes.ts';
import { addClient, createRecord, createSalesforceSandboxState, type SalesforceSandboxState } from './state.ts';

/** The External Client App the sandbox knows: `workspace add --crm salesforce` connects with these. */
export const SANDBOX_SALESFORCE_CLIENT = { clientId: 'agent-governance-sandbox', clientSecret: 'sandbox-secret' };

export interface RunningSalesforceSandbox {
  url: string;
  state: SalesforceSandboxState;
  orgId: string;
  /** `host:port` of its Pub/Sub API endpoint (TLS with a self-signed certificate), publishing every record change. */
  pubSubEndpoint: string;
  /** Its change events, for tests that publish what no record change does (a gap event). */
  bus: ChangeEventBus;
  close(): Promise<void>;
}

/**
 * Starts the local Salesforce in memory, seeded with a few contacts, leads and opportunities, and
 * its Pub/Sub API endpoint beside it: every record change the REST sandbox commits (the API's,
 * tagged with the caller's client id, and a person's through the control routes) is published
 * as a change event. The endpoint accepts the REST sandbox's live access tokens.
 */
export async function startSalesforceSandbox(options: {
  port: number;
  /** The Pub/Sub endpoint's port; 0 (the default) picks a free one. */
  pubSubPort?: number;
  seed?: boolean;
}): Promise<RunningSalesforceSandbox> {
  const state = createSalesforceSandboxState();
  addClient(state, SANDBOX_SALESFORCE_CLIENT);
  const pubsub = await startPubSubSandbox({
    port: options.pubSubPort ?? 0,
    accessToken: '',
    acceptsToken: (token) => (state.sessions.get(token)?.expiresAt ?? 0) > state.now().getTime(),
    organizationId: state.orgId,
    now: () => state.now().getTime(),
  });
  state.changes.on('change', (change) => pubsub.publishRecordChanges([asChangeEvent(change)]));
  if (options.seed !== false) seed(state);
  const server = createSalesforceSandboxServer(state);
  const url = await server.listen(options.port);
  return {
    url,
    state,
    orgId: state.orgId,
    pubSubEndpoint: pubsub.endpoint,
    bus: pubsub.bus,
    close: async () => {
      state.changes.removeAllListeners();
      await Promise.all([server.close(), pubsub.close()]);
    },
  };
}

/** A committed change in the terms the Pub/Sub endpoint publishes: the client of its `changeOrigin`, its API. */
export function asChangeEvent(change: SandboxRecordChange): RecordChange {
  const origin = /^com\/salesforce\/api\/(\w+)\/([\d.]+)(?:;client=(.*))?$/.exec(change.changeOrigin);
  const client = origin?.[3];
  return {
    entity: change.entityName,
    recordIds: change.recordIds,
    changeType: change.changeType,
    changedFields: Object.keys(change.changedFields),
    values: change.changedFields,
    origin: origin === null ? undefined : client === undefined ? null : client,
    commitUser: change.commitUser,
    ...(origin?.[1] === 'soap' || client === UI_CLIENT ? { api: 'soap' as const } : {}),
    ...(origin?.[2] ? { apiVersion: origin[2] } : {}),
  };
}

function seed(state: SalesforceSandboxState): void {
  const admin = [...state.users.keys()][0] ?? '';
  const by = { userId: admin, origin: '' };
  const names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov'];
  for (const [i, name] of names.entries()) {
    const [first = '', last = ''] = name.split(' ');
    createRecord(
      state,
      'Contact',
      {
        FirstName: first,
        LastName: last,
        Email: `${first.toLowerCase()}@example.com`,
        Title: null,
        HasOptedOutOfEmail: 'false',
        OwnerId: admin,
      },
      by,
    );
    createRecord(
      state,
      'Lead',
      { FirstName: first, LastName: last, Company: `Company ${i + 1}`, Status: 'Open', OwnerId: admin },
      by,
    );
    createRecord(
      state,
      'Opportunity',
      { Name: `Deal ${i + 1}`, StageName: 'Prospecting', Amount: String(1_000 * (i + 1)), OwnerId: admin },
      by,
    );
  }
}
