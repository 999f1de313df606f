import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSalesforceSandboxServer,
  type SalesforceSandboxServer,
} from '../../server/src/sandbox/salesforce/http-server.ts';
import {
  addClient,
  createRecord,
  createSalesforceSandboxState,
  type SalesforceSandboxState,
} from '../../server/src/sandbox/salesforce/state.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { createSalesforceWorkspace, requireWorkspace } from '../../server/src/services/governance/index.ts';
import type { Database } from '../../server/src/store/database.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { createTestDatabase } from '../support/database.ts';
import { salesforceTestDeps, TEST_SALESFORCE_APP } from '../support/salesforce.ts';

// Issue 20: a Salesforce workspace through the runtime's resolver, on the test database (PGlite or Postgres).
let database: Database;
let state: SalesforceSandboxState;
let sandbox: SalesforceSandboxServer;
let url: string;
let deps: ServiceDeps;

beforeAll(async () => {
  database = await createTestDatabase();
  state = createSalesforceSandboxState();
  addClient(state, TEST_SALESFORCE_APP);
  sandbox = createSalesforceSandboxServer(state);
  url = await sandbox.listen(0);
  deps = salesforceTestDeps(database.db);
});
afterAll(async () => {
  await sandbox.close();
  await database.close();
});

const ADMIN = { type: 'admin', via: 'cli', name: 'test' } as const;

describe('a Salesforce workspace', () => {
  it('keeps its connection and each minted token sealed, and audits the API-share stop once', async () => {
    const created = await createSalesforceWorkspace(
      deps,
      {
        name: 'Acme',
        connection: {
          loginUrl: url,
          auth: { kind: 'client_credentials', ...TEST_SALESFORCE_APP },
          apiShare: 0.5,
        },
      },
      ADMIN,
    );
    expect(created.orgId).toBe(state.orgId);
    const row = await requireWorkspace(deps, created.id);
    expect(row).toMatchObject({ crm: 'salesforce', hubspotPortalId: `salesforce:${state.orgId}` });
    expect(row.hubspotTokenEnc).not.toContain('secret');

    const id = createRecord(state, 'Contact', { LastName: 'Lovelace' }, { userId: '', origin: '' });
    const crm = deps.crmFor(row);
    await crm.readBatch({ objectType: 'salesforce:Contact', recordIds: [id], properties: ['LastName'] });
    // The token the first call minted was stored sealed, for the next process to reuse.
    for (let i = 0; !(await requireWorkspace(deps, created.id)).salesforceSessionEnc; i++) {
      if (i > 50) throw new Error('the session was never stored');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const stored = (await requireWorkspace(deps, created.id)).salesforceSessionEnc!;
    expect(stored).not.toContain(state.orgId);
    expect(JSON.parse(deps.secrets.open(stored))).toMatchObject({ instanceUrl: url });

    state.api.used = state.api.limit;
    await crm
      .readBatch({ objectType: 'salesforce:Contact', recordIds: [id], properties: ['LastName'] })
      .catch(() => undefined);
    for (let attempt = 0; attempt < 3; attempt++)
      await expect(
        crm.readBatch({ objectType: 'salesforce:Contact', recordIds: [id], properties: ['LastName'] }),
      ).rejects.toMatchObject({
        code: 'CRM_RATE_LIMITED',
      });
    const audited = async () =>
      database.db
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.workspaceId, created.id), eq(auditEvents.type, 'crm.api_budget_reached')));
    for (let i = 0; (await audited()).length === 0; i++) {
      if (i > 50) throw new Error('the stop was never audited');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await audited()).map((event) => event.data)).toEqual([
      { apiUsed: state.api.limit, apiLimit: state.api.limit, share: 0.5 },
    ]);
  });
});
