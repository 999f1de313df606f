import { expect } from 'vitest';
import { byCrm, salesforceResolver } from '../../server/src/runtime.ts';
import { SANDBOX_SALESFORCE_CLIENT } from '../../server/src/sandbox/salesforce/start.ts';
import type { SalesforceCrmOptions } from '../../server/src/crm/salesforce/adapter.ts';
import type { OrgAddresses } from '../../server/src/crm/salesforce/org-addresses.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import {
  bootstrapWorkspace,
  createAgent,
  createSalesforceWorkspace,
  createWorkspace,
  publishPolicy,
  recordCrmBudgetStop,
} from '../../server/src/services/governance/index.ts';
import type { Db } from '../../server/src/store/database.ts';
import { setSalesforceSession } from '../../server/src/store/workspace-store.ts';
import { testDeps } from './deps.ts';
import { ADMIN, api, type Harness } from './harness.ts';
import { LOOPBACK_ORG_ADDRESSES } from './outbound.ts';

/**
 * The harness's `crmFor` for workspaces of either CRM or both, as the server's runtime routes them:
 * the fake HubSpot for HubSpot connections, the Salesforce adapter (its minted tokens sealed and
 * kept) for Salesforce ones.
 */
export function hubspotOrSalesforce(
  hubspot: ServiceDeps['crmFor'],
  deps: ServiceDeps,
  addresses: OrgAddresses = LOOPBACK_ORG_ADDRESSES,
): ServiceDeps['crmFor'] {
  return byCrm(
    hubspot,
    salesforceResolver({
      secrets: deps.secrets,
      addresses,
      saveSession: (workspaceId, sealed) => setSalesforceSession(deps.db, workspaceId, sealed),
      onBudgetStop: async () => {},
    }),
  );
}

/** The local Salesforce's External Client App, as workspace add and workspace connect take it. */
export function sandboxSalesforceConnection(sandboxUrl: string) {
  return { loginUrl: sandboxUrl, auth: { kind: 'client_credentials' as const, ...SANDBOX_SALESFORCE_CLIENT } };
}

/** A workspace on the harness's HubSpot, as portal `portalId`, with the local Salesforce connected second through the admin API. */
export async function workspaceOfBothCrms(harness: Harness, sandboxUrl: string, portalId: string) {
  const ws = await createWorkspace(
    harness.deps,
    { name: 'Both', hubspotPortalId: portalId, hubspotToken: harness.hubspot.accessToken },
    ADMIN,
  );
  const connected = await api(harness, 'POST', '/v1/admin/workspace/connections', {
    token: ws.adminToken,
    body: { crm: 'salesforce', connection: sandboxSalesforceConnection(sandboxUrl) },
  });
  expect(connected.status).toBe(201);
  return ws;
}

/**
 * testDeps whose workspaces are Salesforce orgs (the local Salesforce), resolved as the server
 * resolves them: each org's session stored sealed, a budget stop recorded. `adapter` sets the
 * adapter's own options (a lower Bulk threshold, a faster poll).
 */
export function salesforceTestDeps(db: Db, adapter?: Partial<SalesforceCrmOptions>): ServiceDeps {
  const base = testDeps(db);
  const deps: ServiceDeps = {
    ...base,
    crmFor: salesforceResolver({
      secrets: base.secrets,
      addresses: LOOPBACK_ORG_ADDRESSES,
      saveSession: (id, sealed) => setSalesforceSession(db, id, sealed),
      onBudgetStop: (id, usage) => recordCrmBudgetStop(deps, id, usage),
      ...(adapter ? { adapter } : {}),
    }),
  };
  return deps;
}

/** An External Client App a test adds to its own local Salesforce state (`addClient`). */
export const TEST_SALESFORCE_APP = { clientId: 'eca', clientSecret: 'secret' };

/**
 * A workspace of the org at `loginUrl` through TEST_SALESFORCE_APP, whose Contacts' `properties` an
 * enrichment agent writes at once, bootstrapped, with that agent's token.
 */
export async function enrichedSalesforceWorkspace(
  deps: ServiceDeps,
  input: { loginUrl: string; name: string; properties: readonly string[] },
): Promise<{ workspaceId: string; agentToken: string }> {
  const { id: workspaceId } = await createSalesforceWorkspace(
    deps,
    {
      name: input.name,
      connection: { loginUrl: input.loginUrl, auth: { kind: 'client_credentials', ...TEST_SALESFORCE_APP } },
    },
    ADMIN,
  );
  await publishPolicy(
    deps,
    workspaceId,
    {
      name: input.name.toLowerCase(),
      timezone: 'UTC',
      objects: {
        'salesforce:Contact': {
          properties: Object.fromEntries(input.properties.map((property) => [property, { enrichment: 'auto' }])),
        },
      },
    },
    ADMIN,
  );
  await bootstrapWorkspace(deps, workspaceId, ADMIN);
  const agent = await createAgent(deps, workspaceId, { name: 'enricher', role: 'enrichment' }, ADMIN);
  return { workspaceId, agentToken: agent.token };
}

/** The entities a note's HTML may carry, back to their characters (`&amp;` last, so `&amp;lt;` stays `&lt;`). */
const HTML_ENTITIES: [string, string][] = [
  ['&lt;', '<'],
  ['&gt;', '>'],
  ['&quot;', '"'],
  ['&#39;', "'"],
  ['&amp;', '&'],
];

/** A ContentNote's `Content` as the text it holds: base64 of HTML, lines split at `<br>`, entities undone. */
export function noteText(content: string | null | undefined): string {
  const html = Buffer.from(content ?? '', 'base64').toString('utf8');
  return html
    .split('<br>')
    .map((line) => HTML_ENTITIES.reduce((text, [entity, char]) => text.replaceAll(entity, char), line))
    .join('\n');
}

/**
 * A note as the local Salesforce keeps it, read through its control routes: the ContentNote's
 * title and decoded text, and the ContentDocumentLinks sharing it (none: undefined note).
 */
export async function sandboxNote(sandboxUrl: string, noteId: string) {
  const note = await fetch(`${sandboxUrl}/_sandbox/records/ContentNote/${noteId}`);
  if (note.status === 404) return undefined;
  const { values } = (await note.json()) as { values: Record<string, string | null> };
  const links = (await (await fetch(`${sandboxUrl}/_sandbox/records/ContentDocumentLink`)).json()) as {
    records: { values: Record<string, string | null> }[];
  };
  return {
    title: values['Title'],
    text: noteText(values['Content']),
    links: links.records
      .filter((link) => link.values['ContentDocumentId'] === noteId)
      .map(({ values: { ContentDocumentId: _, ...link } }) => link),
  };
}
