import { createSalesforceSandboxServer } from './http-server.ts';
import { addClient, createRecord, createSalesforceSandboxState, type SalesforceSandboxState } from './state.ts';

/** The External Client App the sandbox knows: `workspace add --crm salesforce` connects with these. */
export const SANDBOX_SALESFORCE_CLIENT = { clientId: 'agent-governance-sandbox', clientSecret: 'sandbox-secret' };

export interface RunningSalesforceSandbox {
  url: string;
  state: SalesforceSandboxState;
  orgId: string;
  close(): Promise<void>;
}

/** Starts the local Salesforce in memory, seeded with a few contacts, leads and opportunities. */
export async function startSalesforceSandbox(options: {
  port: number;
  seed?: boolean;
}): Promise<RunningSalesforceSandbox> {
  const state = createSalesforceSandboxState();
  addClient(state, SANDBOX_SALESFORCE_CLIENT);
  if (options.seed !== false) seed(state);
  const server = createSalesforceSandboxServer(state);
  const url = await server.listen(options.port);
  return { url, state, orgId: state.orgId, close: () => server.close() };
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
