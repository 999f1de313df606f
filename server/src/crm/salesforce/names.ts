import { crmOfObjectType, type ObjectType, salesforceIdChecksum } from '../../../../shared/crm-names.ts';
import type { ChangeSource } from '../../../../shared/crm-names.ts';
import { AppError } from '../../errors.ts';
import type { ReportedChange } from '../port.ts';

/** A Salesforce id: 15 letters and digits, or 18 with its checksum. */
export const SALESFORCE_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** An id in its 18-character form, as the workspace stores ids (an org's as its connection, a user's as `people`). */
export function eighteenCharacters(id: string): string {
  return id.length === 15 ? id + salesforceIdChecksum(id) : id;
}

/** The sObject an object type names: `salesforce:Contact` → `Contact`. */
export function sObjectOf(objectType: ObjectType): string {
  if (crmOfObjectType(objectType) !== 'salesforce')
    throw new AppError(
      'VALIDATION_FAILED',
      `${objectType} is not a Salesforce object type; this workspace's CRM is Salesforce.`,
    );
  return objectType.slice('salesforce:'.length);
}

const PROPOSED = 'ag_proposed_';

/**
 * The custom field our neutral name stands for: `ag_proposed_<field>` → `Proposed_<field>__c`
 * (a custom field's own `__c` becomes `_c`, as a name may not hold two underscores in a row:
 * `Proposed_Lead_Score_c__c`), any other `ag_<x>` → `Agent_<x>__c`. A customer's field keeps its
 * name. `ourFieldName` reverses it (standard fields have no underscores, so `_c` can only be that).
 */
export function sfFieldName(name: string): string {
  if (name.startsWith(PROPOSED)) return `Proposed_${name.slice(PROPOSED.length).replace(/__c$/, '_c')}__c`;
  if (name.startsWith('ag_')) return `Agent_${name.slice(3)}__c`;
  return name;
}

export function ourFieldName(field: string): string {
  const proposed = /^Proposed_(.+)__c$/.exec(field);
  if (proposed) return `${PROPOSED}${(proposed[1] ?? '').replace(/_c$/, '__c')}`;
  const ours = /^Agent_(.+)__c$/.exec(field);
  if (ours) return `ag_${ours[1]}`;
  return field;
}

/**
 * Who made a change Salesforce reported, from a change event's `changeOrigin`
 * (`com/salesforce/api/<api>/<ver>;client=<id>`): our client id is ours; Lightning's internal API
 * client a person; Apex (triggers, flows' actions) a workflow; the Bulk API an import; any other
 * API caller another integration. An empty origin with a committing user is a person's edit.
 */
export function salesforceChangeSource({ changeSource, sourceId, appId }: ReportedChange): ChangeSource {
  const origin = changeSource ?? '';
  const client = /;client=([^;,\s]*)/.exec(origin)?.[1] ?? '';
  if (appId !== null && client === appId) return 'our_app';
  if (client.startsWith('SfdcInternalAPI')) return 'person';
  if (origin === '') return sourceId?.startsWith(USER_PREFIX) ? 'person' : 'crm';
  if (/\/api\/apex/.test(origin)) return 'workflow';
  if (/\/api\/bulkapi/.test(origin)) return 'import';
  if (/^com\/salesforce\/api\//.test(origin)) return 'integration';
  return 'crm';
}

const USER_PREFIX = '005';

/** A change's committing user is a Salesforce user id (`005…`): the person, when a person made it. */
export function userOfCommitUser(sourceId: string | null): string | null {
  return sourceId?.startsWith(USER_PREFIX) ? sourceId : null;
}
