import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { associationsOf } from '../../server/src/sandbox/hubspot/custom-objects.ts';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { createAgent } from '../../server/src/services/governance/index.ts';
import { callAsHubSpot, seedAppWorkspace } from '../support/extension.ts';
import { ADMIN, api, startHarness, type Harness } from '../support/harness.ts';
import { holdEntriesPolicy, proposeContact, proposeLink } from '../support/held-entries.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedAppWorkspace>>;
let token: string;

beforeEach(async () => {
  harness = await startHarness();
  ws = await seedAppWorkspace(harness, { '501': 'approver', '1001': 'rep' });
  await holdEntriesPolicy(harness, ws.workspaceId);
  token = (await createAgent(harness.deps, ws.workspaceId, { name: 'prospector', role: 'prospecting' }, ADMIN)).token;
});
afterEach(() => harness.close());

const asUser = (userId: string, call: { path: string; method?: 'GET' | 'POST'; body?: unknown }) =>
  callAsHubSpot(harness, { ...call, portalId: ws.portalId, userId, clientSecret: ws.clientSecret });

describe('the record card of a record a held creation or association is about', () => {
  it('lists the held link on its contact, and a held likely duplicate on the record it may duplicate, with who may decide', async () => {
    const link = await proposeLink(harness, token);
    const card = await asUser('501', { path: `/card?objectType=contacts&recordId=${link.contact}` });
    expect(card.body.heldEntries).toEqual([
      {
        approval: expect.objectContaining({
          kind: 'association',
          id: link.result.changeId,
          toObjectType: 'companies',
          toRecordId: link.company,
          status: 'pending',
        }),
        agent: { id: expect.any(String), name: 'prospector' },
        decidable: { ok: true },
      },
    ]);
    const repCard = await asUser('1001', { path: `/card?objectType=contacts&recordId=${link.contact}` });
    expect(repCard.body.heldEntries[0].decidable).toEqual({ ok: false, code: 'not_record_owner' });

    // The policy holds a likely duplicate for a person: the existing record's card shows it.
    const existing = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'grace@navy.example' } });
    const duplicate = await proposeContact(harness, token, { email: 'grace@navy.example', lastname: 'Hopper' });
    expect(duplicate.result).toMatchObject({ decision: 'pending_approval', duplicateOf: existing });
    const existingCard = await asUser('501', { path: `/card?objectType=contacts&recordId=${existing}` });
    expect(existingCard.body.heldEntries).toEqual([
      expect.objectContaining({ approval: expect.objectContaining({ kind: 'creation', duplicateOf: existing }) }),
    ]);
    const otherCard = await asUser('501', { path: `/card?objectType=deals&recordId=${link.contact}` });
    expect(otherCard.body.heldEntries).toEqual([]);
  });

  it('decides the held link from the card as the signed person, and it is linked', async () => {
    const link = await proposeLink(harness, token);
    const refused = await asUser('1001', {
      method: 'POST',
      path: `/associations/${link.result.changeId}/decisions`,
      body: { kind: 'approve' },
    });
    expect(refused).toMatchObject({ status: 403, body: { error: { details: { refusal: 'not_record_owner' } } } });
    const approved = await asUser('501', {
      method: 'POST',
      path: `/associations/${link.result.changeId}/decisions`,
      body: { kind: 'approve' },
    });
    expect(approved).toMatchObject({ status: 200, body: { changeId: link.result.changeId, decision: 'applied' } });
    expect(associationsOf(harness.hubspot.state, 'contacts', link.contact)).toEqual([`0-2:${link.company}`]);
    const card = await asUser('501', { path: `/card?objectType=contacts&recordId=${link.contact}` });
    expect(card.body.heldEntries).toEqual([]);
    const listed = await api(harness, 'GET', `/v1/admin/approvals/${link.result.changeId}`, { token: ws.adminToken });
    expect(listed.body).toMatchObject({ status: 'applied', approvedBy: ['501'] });
  });
});
