import { describe, expect, it } from 'vitest';
import {
  classifyPropertyChange,
  readSubscriptionType,
  type KnownWrite,
} from '../../server/src/domain/crm-change-classification.ts';
import { hubspotChangeSource } from '../../server/src/crm/hubspot/change-sources.ts';

const ours: KnownWrite[] = [{ value: 'CTO', changeId: 'change-1', agentId: 'agent-1' }];
const change = (
  changeSource: string | null,
  sourceId: string | null,
  value: string | null = 'CTO',
  property = 'jobtitle',
) => ({ source: hubspotChangeSource({ changeSource, sourceId, appId: '4242' }), property, value });

describe('classifying a property change', () => {
  it.each([
    [
      'our app wrote a value we asked for',
      change('INTEGRATION', '4242'),
      ours,
      { kind: 'own_write', changeId: 'change-1', agentId: 'agent-1' },
    ],
    [
      'our app wrote a value named with an app prefix',
      change('API', 'appId:4242'),
      ours,
      { kind: 'own_write', changeId: 'change-1' },
    ],
    [
      'our app wrote a value we have no record of',
      change('INTEGRATION', '4242', 'CEO'),
      ours,
      { kind: 'bypass', changeId: null },
    ],
    [
      'our app wrote a provenance property',
      change('INTEGRATION', '4242', 'x', 'ag_last_agent'),
      [],
      { kind: 'own_write', changeId: null },
    ],
    ['another integration wrote', change('INTEGRATION', '9999'), ours, { kind: 'bypass' }],
    ['an API call from another app wrote', change('API', '777'), [], { kind: 'bypass' }],
    ['a person edited in the UI', change('CRM_UI', 'userId:9001'), ours, { kind: 'person' }],
    ['a person edited on mobile', change('MOBILE_IOS', '12'), [], { kind: 'person' }],
    ['a workflow set it', change('WORKFLOW', 'wf-1'), [], { kind: 'workflow' }],
    ['the automation platform set it', change('AUTOMATION_PLATFORM', 'wf-2'), [], { kind: 'workflow' }],
    ['an import set it', change('IMPORT', 'import-3'), [], { kind: 'import' }],
    ['HubSpot calculated it', change('CALCULATED', null), [], { kind: 'system' }],
    ['nothing says who', change(null, null), [], { kind: 'system' }],
  ])('when %s', (_name, observed, known, expected) => {
    expect(classifyPropertyChange(observed, known)).toMatchObject(expected);
  });

  it('matches a cleared value to a change that cleared it', () => {
    expect(
      classifyPropertyChange(change('INTEGRATION', '4242', ''), [{ value: null, changeId: 'c', agentId: 'a' }]),
    ).toMatchObject({ kind: 'own_write' });
  });
});

describe('reading a subscription type', () => {
  it.each([
    ['contact.propertyChange', undefined, { objectType: 'contacts', event: 'property_change' }],
    ['deal.deletion', undefined, { objectType: 'deals', event: 'record', kind: 'record_deleted' }],
    ['contact.merge', undefined, { objectType: 'contacts', event: 'record', kind: 'record_merged' }],
    ['contact.creation', undefined, { objectType: 'contacts', event: 'record', kind: 'record_created' }],
    ['object.propertyChange', '2-1234', { objectType: '2-1234', event: 'property_change' }],
    ['conversation.newMessage', undefined, undefined],
    ['contact.associationChange', undefined, undefined],
  ])('%s means %j', (type, objectTypeId, expected) => {
    expect(readSubscriptionType(type, objectTypeId)).toEqual(expected);
  });
});
