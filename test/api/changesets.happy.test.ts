import { and, count, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit, bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { eventWithPersonalColumns, personalOfEvent, shownWhole } from '../../server/src/store/audit-store.ts';
import { auditEvents, auditPersonalData, changeSets, changes } from '../../server/src/store/schema.ts';
import { propertyHistory, recordValues, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let token: string;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment']);
  token = ws.agents[0]!.token;
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
});
afterEach(() => harness.close());

const evidence = {
  source: 'clearbit',
  url: 'https://example.com/p/1',
  confidence: 0.92,
  reason: 'Company site lists a new title',
  runId: 'run-7',
  model: 'gpt-x',
};

function seedContact(properties: Record<string, string> = {}) {
  return seedRecord(harness.hubspot.state, 'contacts', {
    properties: { email: 'ada@example.com', firstname: 'Ada', ...properties },
  });
}

describe('POST /v1/changesets, when the policy allows, holds or refuses', () => {
  it('writes auto fields to HubSpot with provenance, holds approval fields, and refuses denied and unnamed ones', async () => {
    const id = seedContact({ phone: '+1 555 0100' });
    const res = await api(harness, 'POST', '/v1/changesets', {
      token,
      body: {
        batchId: 'enrich-1',
        objectType: 'contacts',
        changes: [
          {
            recordId: id,
            properties: { jobtitle: 'CTO', phone: '+1 555 0199', hs_email_optout: true, firstname: 'Augusta' },
            evidence,
          },
        ],
      },
    });
    expect(res.status).toBe(201);
    const byProperty = Object.fromEntries(res.body.results.map((r: { property: string }) => [r.property, r]));
    expect(byProperty.jobtitle).toMatchObject({
      decision: 'applied',
      tier: 'auto',
      reasons: ['tier_auto'],
      before: null,
      proposed: 'CTO',
    });
    expect(byProperty.phone).toMatchObject({
      decision: 'pending_approval',
      tier: 'approval',
      before: '+1 555 0100',
      proposed: '+1 555 0199',
    });
    expect(byProperty.hs_email_optout).toMatchObject({ decision: 'denied', tier: 'deny', reasons: ['tier_deny'] });
    expect(byProperty.firstname).toMatchObject({ decision: 'denied', reasons: ['field_not_allowed'] });
    expect(res.body.summary).toMatchObject({ applied: 1, pending_approval: 1, denied: 2, failed: 0 });

    const record = recordValues(harness.hubspot.state, 'contacts', id)!;
    expect(record).toMatchObject({
      jobtitle: 'CTO',
      phone: '+1 555 0100',
      firstname: 'Ada',
      ag_last_change_id: res.body.id,
      ag_last_agent: 'enrichment-agent',
      ag_last_source: 'clearbit',
      ag_last_confidence: '0.92',
      ag_last_reason: 'Company site lists a new title',
      ag_last_evidence_url: 'https://example.com/p/1',
      ag_last_changed_properties: 'jobtitle',
      ag_last_policy_version: String(ws.policyVersion),
    });
    expect(propertyHistory(harness.hubspot.state, 'contacts', id, 'jobtitle').at(-1)).toMatchObject({
      value: 'CTO',
      sourceType: 'API',
    });

    // As people see it: phone and first name are personal, kept apart from the hashed event (issue 21).
    const decided = (
      await harness.database.db
        .select(eventWithPersonalColumns)
        .from(auditEvents)
        .leftJoin(auditPersonalData, personalOfEvent)
        .where(and(eq(auditEvents.changeSetId, res.body.id), eq(auditEvents.type, 'change.decided')))
    ).map(shownWhole);
    expect(decided).toHaveLength(1);
    expect(decided[0]).toMatchObject({
      recordId: id,
      policyVersion: ws.policyVersion,
      before: { jobtitle: null, phone: '+1 555 0100', hs_email_optout: null, firstname: 'Ada' },
      after: { jobtitle: 'CTO', phone: '+1 555 0199', hs_email_optout: 'true', firstname: 'Augusta' },
      data: {
        decisions: {
          jobtitle: { decision: 'applying', tier: 'auto', reasons: ['tier_auto'] },
          phone: { decision: 'pending_approval' },
          hs_email_optout: { decision: 'denied' },
          firstname: { decision: 'denied', reasons: ['field_not_allowed'] },
        },
      },
    });
    expect(decided[0]!.evidence).toMatchObject({ source: 'clearbit', runId: 'run-7', model: 'gpt-x' });
    expect(decided[0]!.actor).toMatchObject({ type: 'agent', agentId: ws.agents[0]!.id, role: 'enrichment' });
    const applied = await harness.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.changeSetId, res.body.id), eq(auditEvents.type, 'change.applied')));
    expect(applied).toEqual([
      expect.objectContaining({ recordId: id, before: { jobtitle: null }, after: { jobtitle: 'CTO' } }),
    ]);
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toEqual({ ok: true, events: expect.any(Number) });
  });

  it('reads and writes a large change set in batches of 100, one read and one update per 100 records', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => seedContact({ email: `p${i}@example.com` }));
    harness.hubspot.calls.clear();
    const res = await api(harness, 'POST', '/v1/changesets', {
      token,
      body: {
        batchId: 'big',
        objectType: 'contacts',
        changes: ids.map((recordId) => ({ recordId, properties: { jobtitle: 'Engineer', city: 'Paris' }, evidence })),
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.summary.applied).toBe(500);
    expect(harness.hubspot.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/read' })).toBe(3);
    expect(harness.hubspot.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/update' })).toBe(3);
  });

  it('raises the tier when a condition matches: low confidence and a customer record go to approval', async () => {
    const lowConfidence = seedContact();
    const customer = seedContact({ lifecyclestage: 'customer' });
    const res = await api(harness, 'POST', '/v1/changesets', {
      token,
      body: {
        batchId: 'conditions',
        objectType: 'contacts',
        changes: [
          { recordId: lowConfidence, properties: { jobtitle: 'VP' }, evidence: { ...evidence, confidence: 0.3 } },
          { recordId: customer, properties: { jobtitle: 'VP' }, evidence },
        ],
      },
    });
    expect(res.body.results[0]).toMatchObject({
      decision: 'pending_approval',
      reasons: expect.arrayContaining(['tier_auto', 'confidence_below_threshold']),
    });
    expect(res.body.results[1]).toMatchObject({
      decision: 'pending_approval',
      reasons: expect.arrayContaining(['tier_auto', 'record_condition_matched']),
    });
    expect(recordValues(harness.hubspot.state, 'contacts', customer)!.jobtitle).toBeUndefined();
  });

  it('reports a record HubSpot does not have as failed, and decides the others', async () => {
    const id = seedContact();
    const res = await api(harness, 'POST', '/v1/changesets', {
      token,
      body: {
        batchId: 'missing',
        objectType: 'contacts',
        changes: [
          { recordId: '999999', properties: { jobtitle: 'X' }, evidence },
          { recordId: id, properties: { jobtitle: 'Y' }, evidence },
        ],
      },
    });
    expect(res.body.results.map((r: { decision: string }) => r.decision)).toEqual(['failed', 'applied']);
    expect(res.body.results[0].reasons).toEqual(['record_not_found']);
  });

  it('answers a retry with the same Idempotency-Key from the first submission, writing nothing twice', async () => {
    const id = seedContact();
    const body = {
      batchId: 'idem',
      objectType: 'contacts',
      changes: [{ recordId: id, properties: { jobtitle: 'CFO' }, evidence }],
    };
    const first = await api(harness, 'POST', '/v1/changesets', { token, body, headers: { 'idempotency-key': 'k-1' } });
    const updatesAfterFirst = harness.hubspot.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/update' });
    const second = await api(harness, 'POST', '/v1/changesets', { token, body, headers: { 'idempotency-key': 'k-1' } });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(harness.hubspot.calls.count({ route: 'POST /crm/v3/objects/{type}/batch/update' })).toBe(updatesAfterFirst);
    const [stored] = await harness.database.db
      .select({ n: count() })
      .from(changeSets)
      .where(eq(changeSets.workspaceId, ws.workspaceId));
    expect(stored!.n).toBe(1);

    const reused = await api(harness, 'POST', '/v1/changesets', {
      token,
      body: { ...body, batchId: 'other' },
      headers: { 'idempotency-key': 'k-1' },
    });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('GET /v1/changesets/:id returns every decision as submitted', async () => {
    const id = seedContact();
    const created = await api(harness, 'POST', '/v1/changesets', {
      token,
      body: {
        batchId: 'get',
        objectType: 'contacts',
        changes: [{ recordId: id, properties: { jobtitle: 'A', email: 'new@example.com' }, evidence }],
      },
    });
    const fetched = await api(harness, 'GET', `/v1/changesets/${created.body.id}`, { token });
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);
    const rows = await harness.database.db
      .select({ n: count() })
      .from(changes)
      .where(eq(changes.changeSetId, created.body.id));
    expect(rows[0]!.n).toBe(2);
  });

  it('publishes the API as OpenAPI generated from the zod schemas', async () => {
    const res = await api(harness, 'GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/v1/changesets', '/v1/changesets/{id}']));
    expect(res.body.components.schemas.ChangeSetRequest.required).toEqual(
      expect.arrayContaining(['batchId', 'objectType', 'changes']),
    );
    expect(res.body.components.schemas.Evidence.required).toEqual(['source', 'reason']);
  });

  it('GET /healthz reports the database once the server can serve', async () => {
    const res = await api(harness, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', database: { state: 'ready', kind: harness.database.kind } });
  });
});
