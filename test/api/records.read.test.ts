import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { maskValue } from '../../server/src/domain/read-masking.ts';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { publishPolicy, setKillSwitch, verifyAudit } from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { ADMIN, api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment', 'outreach']);
  const base = EXAMPLE_POLICY as { objects: { contacts: object } };
  await publishPolicy(
    harness.deps,
    ws.workspaceId,
    {
      ...base,
      objects: {
        ...base.objects,
        contacts: {
          ...base.objects.contacts,
          read: {
            jobtitle: { '*': 'full' },
            email: { enrichment: 'masked', outreach: 'full' },
            phone: { enrichment: 'masked' },
          },
        },
      },
    },
    ADMIN,
  );
});
afterEach(() => harness.close());

const read = (token: string, body: object) => api(harness, 'POST', '/v1/records/read', { token, body });

describe('POST /v1/records/read', () => {
  it('returns what the role may read, masks what it may only glimpse, withholds the rest, and audits it', async () => {
    const id = seedRecord(harness.hubspot.state, 'contacts', {
      properties: { email: 'jane.doe@acme.com', phone: '+1 555 0199', jobtitle: 'CTO', city: 'Paris' },
    });
    const res = await read(ws.agents[0]!.token, {
      objectType: 'contacts',
      recordIds: [id, '999999'],
      properties: ['email', 'phone', 'jobtitle', 'city'],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      objectType: 'contacts',
      policyVersion: expect.any(Number),
      records: [
        {
          recordId: id,
          properties: { email: 'j***@acme.com', phone: '***99', jobtitle: 'CTO' },
          masked: ['email', 'phone'],
        },
      ],
      withheld: ['city'],
      missing: ['999999'],
    });
    const outreach = await read(ws.agents[1]!.token, { objectType: 'contacts', recordIds: [id] });
    expect(outreach.body.records[0]).toEqual({
      recordId: id,
      properties: { jobtitle: 'CTO', email: 'jane.doe@acme.com' },
      masked: [],
    });
    const [event] = await harness.database.db.select().from(auditEvents).where(eq(auditEvents.type, 'records.read'));
    expect(event).toMatchObject({
      agentId: ws.agents[0]!.id,
      data: { recordIds: [id], masked: ['email', 'phone'], withheld: ['city'], missing: ['999999'] },
    });
    expect(await verifyAudit(harness.deps, ws.workspaceId)).toMatchObject({ ok: true });
  });

  it('names each property once, however often it was asked for', async () => {
    const id = seedRecord(harness.hubspot.state, 'contacts', {
      properties: { email: 'jane.doe@acme.com', city: 'Paris' },
    });
    const res = await read(ws.agents[0]!.token, {
      objectType: 'contacts',
      recordIds: [id, id],
      properties: ['email', 'city', 'email', 'city'],
    });
    expect(res.body).toMatchObject({
      records: [{ recordId: id, properties: { email: 'j***@acme.com' }, masked: ['email'] }],
      withheld: ['city'],
    });
    const [event] = await harness.database.db.select().from(auditEvents).where(eq(auditEvents.type, 'records.read'));
    expect(event!.data).toMatchObject({
      recordIds: [id],
      properties: ['email'],
      masked: ['email'],
      withheld: ['city'],
    });
  });

  it('asks the CRM whether the records exist when nothing asked for is readable, and reports found only those it has', async () => {
    const id = seedRecord(harness.hubspot.state, 'contacts', { properties: { city: 'Paris' } });
    const res = await read(ws.agents[0]!.token, {
      objectType: 'contacts',
      recordIds: [id, '999999'],
      properties: ['city'],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      records: [{ recordId: id, properties: {}, masked: [] }],
      withheld: ['city'],
      missing: ['999999'],
    });
  });

  it('refuses a read of an object of a CRM the workspace is not connected to, rather than answer it has the record', async () => {
    const res = await read(ws.agents[0]!.token, {
      objectType: 'salesforce:Contact',
      recordIds: ['003000000000001AAA'],
    });
    expect(res).toMatchObject({
      status: 400,
      body: {
        error: { code: 'VALIDATION_FAILED', details: { issues: [expect.objectContaining({ path: 'objectType' })] } },
      },
    });
  });

  it('is refused while the agent’s kill switch is engaged', async () => {
    await setKillSwitch(
      harness.deps,
      ws.workspaceId,
      { scope: 'agent', target: ws.agents[0]!.id, engaged: true, reason: 'drill' },
      ADMIN,
    );
    const res = await read(ws.agents[0]!.token, { objectType: 'contacts', recordIds: ['1'] });
    expect(res).toMatchObject({ status: 423, body: { error: { code: 'KILL_SWITCH_ENGAGED' } } });
  });

  it('masks values so they can be told apart but not used', () => {
    expect(maskValue('a@b.io')).toBe('a***@b.io');
    expect(maskValue('Ada Lovelace')).toBe('A***');
    expect(maskValue('(555) 010-0199')).toBe('***99');
    expect(maskValue('')).toBe('');
    expect(maskValue(null)).toBeNull();
  });
});
