import { describe, expect, it } from 'vitest';
import { readChangeEvent, readChangeOrigin } from '../../server/src/crm/salesforce/change-events/index.ts';
import { userKindOf, userKindsOf, userKindsQuery } from '../../server/src/crm/salesforce/users.ts';
import { classifyChangeOrigin } from '../../server/src/domain/crm-change-origin.ts';

/** Who made a streamed change (issue 20, point 5): the pure rule, and Salesforce's origins read into it. */

const OURS = 'agent-governance';

describe('classifyChangeOrigin', () => {
  it('names our writes by our client id, whoever they ran as', () => {
    expect(classifyChangeOrigin({ channel: 'api', apiClient: OURS, userKind: 'person' }, OURS)).toBe('our_app');
    expect(classifyChangeOrigin({ channel: 'api', apiClient: OURS, userKind: 'integration' }, OURS)).toBe('our_app');
  });

  it('names an AI agent user an AI agent on any channel', () => {
    expect(classifyChangeOrigin({ channel: 'ui', apiClient: null, userKind: 'ai_agent' }, OURS)).toBe('ai_agent');
    expect(classifyChangeOrigin({ channel: 'api', apiClient: 'x', userKind: 'ai_agent' }, OURS)).toBe('ai_agent');
  });

  it('names the CRM pages a person, another API client an integration, automation a workflow', () => {
    expect(classifyChangeOrigin({ channel: 'ui', apiClient: null, userKind: 'unknown' }, OURS)).toBe('person');
    expect(classifyChangeOrigin({ channel: 'api', apiClient: 'zapier', userKind: 'person' }, OURS)).toBe('integration');
    expect(classifyChangeOrigin({ channel: 'api', apiClient: null, userKind: 'unknown' }, OURS)).toBe('integration');
    expect(classifyChangeOrigin({ channel: 'internal', apiClient: null, userKind: 'automation' }, OURS)).toBe(
      'workflow',
    );
    expect(classifyChangeOrigin({ channel: 'internal', apiClient: null, userKind: 'unknown' }, OURS)).toBe('crm');
  });
});

describe("Salesforce's change origins", () => {
  it('reads the channel and the declared client', () => {
    expect(readChangeOrigin('com/salesforce/api/rest/66.0;client=agent-governance')).toEqual({
      channel: 'api',
      apiClient: 'agent-governance',
    });
    expect(readChangeOrigin('com/salesforce/api/soap/66.0;client=SfdcInternalAPI/')).toEqual({
      channel: 'ui',
      apiClient: null,
    });
    expect(readChangeOrigin('com/salesforce/api/bulkapi/66.0')).toEqual({ channel: 'api', apiClient: null });
    expect(readChangeOrigin('')).toEqual({ channel: 'internal', apiClient: null });
  });

  const context = {
    ourClientId: OURS,
    objectTypes: { Contact: 'contacts' },
    approvalObject: { entity: 'Agent_Approval__c', statusField: 'Status__c' },
    userKinds: new Map([['005AGENT0000001AAA', 'ai_agent' as const]]),
  };
  const event = (header: Record<string, unknown>, values: Record<string, unknown> = {}) => ({
    replayId: 7,
    payload: {
      ChangeEventHeader: {
        entityName: 'Contact',
        recordIds: ['003000000000001AAA'],
        changeType: 'UPDATE',
        changeOrigin: 'com/salesforce/api/soap/66.0;client=SfdcInternalAPI/',
        commitTimestamp: 1_796_000_000_000,
        commitUser: '005000000000001AAA',
        changedFields: ['Title', 'LastModifiedDate'],
        nulledFields: [],
        ...header,
      },
      ...values,
    },
  });

  it('reads an update into one change per record and field, system fields left out', () => {
    const read = readChangeEvent(
      event(
        {
          recordIds: ['003000000000001AAA', '003000000000002AAA'],
          nulledFields: ['Phone'],
          changedFields: ['Title', 'Phone', 'LastModifiedDate'],
        },
        { Title: 'CFO' },
      ),
      context,
    );
    expect(read.reread).toBeNull();
    expect(read.changes.map((c) => [c.recordId, c.property, c.value, c.source])).toEqual([
      ['003000000000001AAA', 'Title', 'CFO', 'person'],
      ['003000000000001AAA', 'Phone', null, 'person'],
      ['003000000000002AAA', 'Title', 'CFO', 'person'],
      ['003000000000002AAA', 'Phone', null, 'person'],
    ]);
  });

  it('reads an Agentforce user as an AI agent and a status set on the approval object as our status', () => {
    expect(
      readChangeEvent(event({ commitUser: '005AGENT0000001AAA' }, { Title: 'X' }), context).changes[0]?.source,
    ).toBe('ai_agent');
    const decided = readChangeEvent(
      event(
        { entityName: 'Agent_Approval__c', recordIds: ['a01000000000001AAA'], changedFields: ['Status__c'] },
        { Status__c: 'Approved' },
      ),
      context,
    );
    expect(decided.changes).toMatchObject([
      {
        objectType: 'agent_approvals',
        property: 'ag_status',
        value: 'approved',
        source: 'person',
        sourceId: '005000000000001AAA',
      },
    ]);
  });

  it('names our own fields as the adapter does, so our writes to them are known as ours', () => {
    const read = readChangeEvent(
      event(
        { changeOrigin: `com/salesforce/api/rest/66.0;client=${OURS}`, changedFields: ['Proposed_Title__c', 'Title'] },
        { Proposed_Title__c: 'CFO', Title: 'CEO' },
      ),
      context,
    );
    expect(read.changes.map((c) => [c.property, c.value, c.source])).toEqual([
      ['ag_proposed_Title', 'CFO', 'our_app'],
      ['Title', 'CEO', 'our_app'],
    ]);
  });

  it('asks for records to be read again on gap and overflow events', () => {
    expect(readChangeEvent(event({ changeType: 'GAP_UPDATE', changeOrigin: '' }), context)).toEqual({
      changes: [],
      reread: { objectType: 'contacts', recordIds: ['003000000000001AAA'] },
    });
    expect(
      readChangeEvent(event({ changeType: 'GAP_OVERFLOW', recordIds: ['000000000000000AAA'] }), context).reread,
    ).toEqual({ objectType: 'contacts', recordIds: null });
  });
});

describe('what kind of user a Salesforce commit user is', () => {
  it.each([
    ['an Agentforce agent user', { UserType: 'Standard', Profile: { Name: 'Einstein Agent User' } }, 'ai_agent'],
    ['the automated process', { UserType: 'AutomatedProcess', Profile: null }, 'automation'],
    [
      'an API-only integration user',
      { UserType: 'Standard', Profile: { Name: 'Salesforce API Only System Integrations' } },
      'integration',
    ],
    ['a person', { UserType: 'Standard', Profile: { Name: 'Standard User' } }, 'person'],
    ['a portal user', { UserType: 'PowerPartner', Profile: { Name: 'Partner Community User' } }, 'person'],
    ['a site guest', { UserType: 'Guest', Profile: { Name: 'Site Guest' } }, 'unknown'],
  ] as const)('reads %s from its user type and profile', (_, row, kind) => {
    expect(userKindOf({ Id: '005000000000001AAA', ...row })).toBe(kind);
  });

  it('gives every asked id a kind, matching the 15-character form, and unknown for users the org did not return', () => {
    const kinds = userKindsOf(
      ['005000000000003', '005000000000009AAA'],
      [{ Id: '005000000000003AAA', UserType: 'Standard', Profile: { Name: 'Einstein Agent User' } }],
    );
    expect([...kinds]).toEqual([
      ['005000000000003', 'ai_agent'],
      ['005000000000009AAA', 'unknown'],
    ]);
  });

  it('asks in one SOQL query and never sends what is not a Salesforce id', () => {
    expect(userKindsQuery(['005000000000001AAA', "x' OR Id != '", '005000000000002'])).toBe(
      "SELECT Id, UserType, Profile.Name FROM User WHERE Id IN ('005000000000001AAA','005000000000002')",
    );
    expect(userKindsQuery(['not an id'])).toBeNull();
  });
});
