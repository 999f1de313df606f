import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { associationsOf } from '../../server/src/sandbox/hubspot/custom-objects.ts';
import { seedCompany, unlinkRecords } from '../../server/src/sandbox/hubspot/association-routes.ts';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { publishPolicy, verifyAudit } from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { givePeopleRoles } from '../support/approvals.ts';
import { runRollback } from '../support/rollbacks.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let token: string;

function associationPolicy(overrides: { associate?: object; caps?: Record<string, number> } = {}) {
  const base = EXAMPLE_POLICY as { objects: { contacts: object }; caps: object };
  return {
    ...base,
    objects: {
      ...base.objects,
      contacts: { ...base.objects.contacts, associate: overrides.associate ?? { prospecting: 'auto' } },
    },
    caps: { ...base.caps, ...overrides.caps },
  };
}

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['prospecting', 'enrichment']);
  token = ws.agents[0]!.token;
  await publishPolicy(harness.deps, ws.workspaceId, associationPolicy(), ADMIN);
});
afterEach(() => harness.close());

const evidence = { source: 'apollo', reason: 'Works there, per the company team page', confidence: 0.9 };

function associate(recordId: string, toRecordId: string, toObjectType = 'companies') {
  return { operation: 'associate', recordId, toObjectType, toRecordId, evidence };
}

function submit(changes: unknown[], agentToken = token, batchId = 'link-1') {
  return api(harness, 'POST', '/v1/changesets', {
    token: agentToken,
    body: { batchId, objectType: 'contacts', changes },
  });
}

const contact = (email: string) => seedRecord(harness.hubspot.state, 'contacts', { properties: { email } });
const companiesOf = (contactId: string) =>
  associationsOf(harness.hubspot.state, 'contacts', contactId)
    .filter((key) => key.startsWith('0-2:'))
    .map((key) => key.slice(4));

async function eventsOf(type: string) {
  return harness.database.db.select().from(auditEvents).where(eq(auditEvents.type, type));
}

describe('POST /v1/changesets with "operation": "associate"', () => {
  it('links a contact with its company when the role may associate, audited, and reads back the same', async () => {
    const ada = contact('ada@acme.com');
    const acme = seedCompany(harness.hubspot.state, 'Acme');
    const res = await submit([associate(ada, acme)]);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'completed', summary: { applied: 1 } });
    expect(res.body.results[0]).toMatchObject({
      operation: 'associate',
      recordId: ada,
      toObjectType: 'companies',
      toRecordId: acme,
      decision: 'applied',
      tier: 'auto',
      reasons: ['tier_auto'],
    });
    expect(companiesOf(ada)).toEqual([acme]);
    const again = await api(harness, 'GET', `/v1/changesets/${res.body.id}`, { token });
    expect(again.body).toEqual(res.body);
    expect(await eventsOf('record.associate_decided')).toHaveLength(1);
    expect(await eventsOf('record.associated')).toEqual([
      expect.objectContaining({ recordId: ada, data: expect.objectContaining({ alreadyLinked: false }) }),
    ]);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });
});
