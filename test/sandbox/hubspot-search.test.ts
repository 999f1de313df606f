import { describe, expect, it } from 'vitest';
import { handleHubSpotRequest } from '../../server/src/sandbox/hubspot/handler.ts';
import { createHubSpotState, seedRecord, type HubSpotState } from '../../server/src/sandbox/hubspot/state.ts';

function searchContacts(state: HubSpotState, body: unknown) {
  return handleHubSpotRequest(state, {
    method: 'POST',
    path: '/crm/v3/objects/contacts/search',
    headers: { authorization: `Bearer ${state.accessToken}` },
    body,
  });
}

function stateWithContacts() {
  const state = createHubSpotState();
  seedRecord(state, 'contacts', {
    id: '1',
    properties: { email: 'a@x.example', jobtitle: 'CTO', lifecyclestage: 'customer' },
  });
  seedRecord(state, 'contacts', { id: '2', properties: { email: 'b@x.example', lifecyclestage: 'lead' } });
  seedRecord(state, 'contacts', {
    id: '3',
    properties: { email: 'c@y.example', jobtitle: 'VP Sales', lifecyclestage: 'lead' },
  });
  return state;
}

const ids = (response: { body: unknown }) =>
  (response.body as { results: { id: string }[] }).results.map((record) => record.id);

describe('the fake HubSpot’s search', () => {
  it.each([
    [
      'NOT_HAS_PROPERTY finds records with the field empty',
      [{ filters: [{ propertyName: 'jobtitle', operator: 'NOT_HAS_PROPERTY' }] }],
      ['2'],
    ],
    [
      'filters in a group must all match',
      [
        {
          filters: [
            { propertyName: 'lifecyclestage', operator: 'EQ', value: 'lead' },
            { propertyName: 'jobtitle', operator: 'HAS_PROPERTY' },
          ],
        },
      ],
      ['3'],
    ],
    [
      'any group may match',
      [
        { filters: [{ propertyName: 'lifecyclestage', operator: 'EQ', value: 'customer' }] },
        { filters: [{ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*y.example' }] },
      ],
      ['1', '3'],
    ],
    [
      'IN matches any listed value, ignoring case',
      [{ filters: [{ propertyName: 'jobtitle', operator: 'IN', values: ['cto', 'vp sales'] }] }],
      ['1', '3'],
    ],
  ])('%s', async (_name, filterGroups, expected) => {
    const response = await searchContacts(stateWithContacts(), { filterGroups, properties: ['jobtitle'] });
    expect(response.status).toBe(200);
    expect(ids(response)).toEqual(expected);
  });

  it('pages with after and says how many matched in all', async () => {
    const first = await searchContacts(stateWithContacts(), { limit: 2 });
    expect(first.body).toMatchObject({ total: 3, paging: { next: { after: '2' } } });
    const second = await searchContacts(stateWithContacts(), { limit: 2, after: '2' });
    expect(ids(second)).toEqual(['3']);
    expect(second.body).not.toHaveProperty('paging');
  });

  it.each([
    ['a limit over 200', { limit: 201 }],
    ['paging past 10,000 results', { limit: 100, after: '9950' }],
    ['an unknown operator', { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'LIKE', value: 'a' }] }] }],
    [
      'six filter groups',
      {
        filterGroups: Array.from({ length: 6 }, () => ({
          filters: [{ propertyName: 'email', operator: 'HAS_PROPERTY' }],
        })),
      },
    ],
  ])('refuses %s with HubSpot’s VALIDATION_ERROR', async (_name, body) => {
    const response = await searchContacts(stateWithContacts(), body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
  });
});
