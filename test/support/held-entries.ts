import { seedCompany } from '../../server/src/sandbox/hubspot/association-routes.ts';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { publishPolicy } from '../../server/src/services/governance/index.ts';
import { ADMIN, api, EXAMPLE_POLICY, type Harness } from './harness.ts';

/*
 * Held creations and associations (issue 21): a policy that holds the prospecting agent's
 * contacts to create and links to make for a person, and the change sets that propose them.
 */

const CONTACT_FIELDS = ['email', 'firstname', 'lastname'];
export const ENTRY_EVIDENCE = { source: 'apollo', reason: 'On the company team page', confidence: 0.9 };

/** Creating a contact (a likely duplicate too) and linking one with its company wait for a person (`tier`) when the prospecting role asks. */
export async function holdEntriesPolicy(
  harness: Harness,
  workspaceId: string,
  tier: 'approval' | 'two_person' = 'approval',
): Promise<void> {
  const base = EXAMPLE_POLICY as { objects: { contacts: { properties: Record<string, object> } } };
  await publishPolicy(
    harness.deps,
    workspaceId,
    {
      ...base,
      objects: {
        ...base.objects,
        contacts: {
          ...base.objects.contacts,
          properties: {
            ...base.objects.contacts.properties,
            ...Object.fromEntries(CONTACT_FIELDS.map((name) => [name, { prospecting: 'auto' }])),
          },
          create: { prospecting: tier },
          onDuplicate: tier,
          associate: { prospecting: tier },
        },
      },
    },
    ADMIN,
  );
}

/** A contact and a company in the fake CRM, and the agent's change set asking to link them: its one result. */
export async function proposeLink(harness: Harness, token: string, batchId = 'link-1') {
  const contact = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'ada@acme.com' } });
  const company = seedCompany(harness.hubspot.state, 'Acme');
  const res = await api(harness, 'POST', '/v1/changesets', {
    token,
    body: {
      batchId,
      objectType: 'contacts',
      changes: [
        {
          operation: 'associate',
          recordId: contact,
          toObjectType: 'companies',
          toRecordId: company,
          evidence: ENTRY_EVIDENCE,
        },
      ],
    },
  });
  return { contact, company, changeSetId: res.body.id as string, result: res.body.results[0] };
}

/** The agent's change set asking to create a contact: its one result. */
export async function proposeContact(harness: Harness, token: string, properties: Record<string, string>) {
  const res = await api(harness, 'POST', '/v1/changesets', {
    token,
    body: {
      batchId: 'prospect-1',
      objectType: 'contacts',
      changes: [{ operation: 'create', properties, evidence: ENTRY_EVIDENCE }],
    },
  });
  return { changeSetId: res.body.id as string, result: res.body.results[0] };
}
