import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorkspace } from '../../server/src/services/governance/index.ts';
import { ADMIN, api, EXAMPLE_POLICY, startHarness, type Harness } from '../support/harness.ts';

const PROPERTY_LIST = 'GET /crm/v3/properties/{type}';

let harness: Harness;
let adminToken: string;

// A workspace of its own for each test, never published to: its adapter has read no property list yet.
beforeEach(async () => {
  harness = await startHarness();
  ({ adminToken } = await createWorkspace(
    harness.deps,
    { name: 'Acme', hubspotPortalId: '4242', hubspotToken: harness.hubspot.accessToken },
    ADMIN,
  ));
});
afterEach(() => harness.close());

const example = EXAMPLE_POLICY as {
  objects: { contacts: { properties: Record<string, unknown> } };
  conditions: unknown[];
};

/** The example policy with `properties` added to its contacts' tiers. */
function withContactProperties(properties: Record<string, unknown>, more: Record<string, unknown> = {}) {
  return {
    ...example,
    objects: {
      ...example.objects,
      contacts: { ...example.objects.contacts, properties: { ...example.objects.contacts.properties, ...properties } },
    },
    ...more,
  };
}

const publish = (body: unknown) => api(harness, 'POST', '/v1/admin/policies', { token: adminToken, body });
const active = async () => (await api(harness, 'GET', '/v1/admin/policies/active', { token: adminToken })).body;

describe('publishing a policy that names properties the HubSpot portal does not have', () => {
  it('publishes a typo and says, by object and property, that the portal has no such property', async () => {
    const res = await publish(
      withContactProperties(
        { jobtitel: { enrichment: 'auto' } },
        {
          conditions: [
            ...example.conditions,
            {
              kind: 'record_matches',
              objectType: 'deals',
              property: 'dealstag',
              op: 'eq',
              value: 'x',
              raiseTo: 'deny',
            },
          ],
        },
      ),
    );
    expect(res.status).toBe(201);
    expect(res.body.warnings).toEqual([
      {
        code: 'unknown_property',
        objectType: 'contacts',
        property: 'jobtitel',
        message: expect.stringContaining('contacts has no property jobtitel'),
      },
      {
        code: 'unknown_property',
        objectType: 'deals',
        property: 'dealstag',
        message: expect.stringContaining('deals has no property dealstag'),
      },
    ]);
    // In force as published: the portal may gain the property later.
    const inForce = await active();
    expect(inForce.version).toBe(res.body.version);
    expect(inForce.policy.objects.contacts.properties.jobtitel).toEqual({ enrichment: 'auto' });
  });

  it('names a governed read of a property the portal lacks too', async () => {
    const res = await publish({
      ...example,
      objects: { ...example.objects, contacts: { ...example.objects.contacts, read: { emial: { '*': 'full' } } } },
    });
    expect(res.status).toBe(201);
    expect(res.body.warnings.map((warning: { property: string }) => warning.property)).toEqual(['emial']);
  });

  it('says nothing of a policy whose properties the portal has, nor of those bootstrap creates itself', async () => {
    const ours = { ag_last_source: { '*': 'deny' }, ag_do_not_contact: { '*': 'deny' }, ag_proposed_phone: {} };
    // Not bootstrapped: the portal lacks the app's own properties, yet they are not the admin's mistake.
    for (const name of Object.keys(ours))
      expect(harness.hubspot.state.objects.contacts.properties.has(name)).toBe(false);
    const res = await publish(withContactProperties(ours));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ version: 1 });
    expect(harness.hubspot.calls.count({ route: PROPERTY_LIST })).toBeGreaterThan(0);
  });

  it('asks the portal again before naming a property its cached list lacks: one the admin has just made is not reported', async () => {
    expect((await publish(example)).status).toBe(201); // the portal's property lists are cached now
    const made = await fetch(`${harness.hubspot.baseUrl}/crm/v3/properties/contacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${harness.hubspot.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'ai_fit_score',
        label: 'AI fit score',
        type: 'number',
        fieldType: 'number',
        groupName: 'contactinformation',
      }),
    });
    expect(made.status).toBe(201);
    const res = await publish(withContactProperties({ ai_fit_score: { enrichment: 'auto' } }));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ version: 2 });
  });

  it('publishes without warnings, saying nothing false, when the portal answers 5xx', async () => {
    harness.hubspot.faults.failNext(100, { status: 503 }, PROPERTY_LIST);
    const res = await publish(withContactProperties({ jobtitel: { enrichment: 'auto' } }));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ version: 1 });
    expect((await active()).version).toBe(1);
    expect(harness.hubspot.calls.count({ route: PROPERTY_LIST })).toBeGreaterThan(0);
  });

  it('publishes without warnings when the portal is too slow to answer, not waiting on it', async () => {
    const held = harness.hubspot.faults.hold(PROPERTY_LIST);
    try {
      const res = await publish(withContactProperties({ jobtitel: { enrichment: 'auto' } }));
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ version: 1 });
    } finally {
      held.release();
    }
  });
});
