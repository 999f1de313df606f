import type { CrmChangeEvent } from '../../../../../shared/crm-change-events.ts';
import { APPROVAL_OBJECT_TYPE, APPROVAL_STATUS_PROPERTY } from '../../../../../shared/crm-names.ts';
import { type CommitUserKind, classifyChangeOrigin } from '../../../domain/crm-change-origin.ts';
import { ourFieldName } from '../names.ts';
import { readChangeOrigin } from './change-origin.ts';

/** A change event as `salesforce-pubsub-api-client` hands it over: Avro decoded, field bitmaps read into names. */
export interface ParsedChangeEvent {
  replayId: number;
  payload: {
    ChangeEventHeader: {
      entityName: string;
      recordIds: string[];
      changeType: string;
      changeOrigin: string;
      commitTimestamp: number | bigint;
      commitUser: string;
      changedFields: string[];
      nulledFields: string[];
    };
    [field: string]: unknown;
  };
}

/** The records a gap or overflow event stands for, to read again; `recordIds` null: all of the object's. */
export interface Reread {
  objectType: string;
  recordIds: string[] | null;
}

export interface ChangeEventContext {
  /** The client id our writes declare in `Sforce-Call-Options`. */
  ourClientId: string;
  /** Our object type for each subscribed sObject (Contact, Lead, Opportunity); the approval object is named here. */
  objectTypes: Readonly<Record<string, string>>;
  /** The approval object's API name and its status field. */
  approvalObject: { entity: string; statusField: string };
  userKinds: ReadonlyMap<string, CommitUserKind>;
}

/** Fields every change carries that no one governs. */
const SYSTEM_FIELDS = new Set(['LastModifiedDate', 'LastModifiedById', 'SystemModstamp', 'CreatedDate', 'CreatedById']);
const RECORD_EVENTS: Record<string, CrmChangeEvent['recordEvent']> = {
  CREATE: 'record_created',
  DELETE: 'record_deleted',
  UNDELETE: 'record_restored',
};
const OVERFLOW_RECORD_ID = '000000000000000AAA';

/**
 * One change event read into our changes, one per record and changed field (a record-level
 * change per record for creations, deletions and restores). A gap event (header only: the
 * change itself was not sent) and an overflow event (a transaction past 100,000 changes) come
 * back as records to read again instead, as does a wildcard record id.
 */
export function readChangeEvent(
  event: ParsedChangeEvent,
  context: ChangeEventContext,
): { changes: CrmChangeEvent[]; reread: Reread | null } {
  const header = event.payload.ChangeEventHeader;
  const isApproval = header.entityName === context.approvalObject.entity;
  const objectType = isApproval ? APPROVAL_OBJECT_TYPE : context.objectTypes[header.entityName];
  if (objectType === undefined) return { changes: [], reread: null };
  if (header.changeType.startsWith('GAP_')) {
    const whole = header.changeType === 'GAP_OVERFLOW' || header.recordIds.some(isWildcard);
    return { changes: [], reread: { objectType, recordIds: whole ? null : [...header.recordIds] } };
  }
  if (header.recordIds.some(isWildcard)) return { changes: [], reread: { objectType, recordIds: null } };
  const origin = readChangeOrigin(header.changeOrigin);
  const source = classifyChangeOrigin(
    { ...origin, userKind: context.userKinds.get(header.commitUser) ?? 'unknown' },
    context.ourClientId,
  );
  // A person's change is theirs; another integration is known by its client id when it declared one.
  const sourceId = source === 'integration' && origin.apiClient !== null ? origin.apiClient : header.commitUser;
  const common = {
    objectType,
    occurredAt: new Date(Number(header.commitTimestamp)),
    source,
    sourceId,
    origin: header.changeOrigin === '' ? null : header.changeOrigin,
  };
  const recordEvent = RECORD_EVENTS[header.changeType];
  if (recordEvent)
    return {
      changes: header.recordIds.map((recordId) => ({ ...common, recordId, property: null, value: null, recordEvent })),
      reread: null,
    };
  if (header.changeType !== 'UPDATE') return { changes: [], reread: null };
  const nulled = new Set(header.nulledFields);
  const changes: CrmChangeEvent[] = [];
  for (const recordId of header.recordIds)
    for (const field of header.changedFields) {
      // A compound field's part (`Name.FirstName`) arrives flattened under the part's name.
      const name = field.includes('.') ? (field.split('.').at(-1) ?? field) : field;
      if (SYSTEM_FIELDS.has(name)) continue;
      const raw = nulled.has(field) ? null : (event.payload[name] ?? null);
      const approvalStatus = isApproval && name === context.approvalObject.statusField;
      changes.push({
        ...common,
        recordId,
        // Our own fields by the names the adapter gives them (`Proposed_Title__c` is `ag_proposed_Title`),
        // so the approval mirror's writes are known as ours, not taken for another integration's.
        property: approvalStatus ? APPROVAL_STATUS_PROPERTY : ourFieldName(name),
        value: approvalStatus && raw !== null ? String(raw).toLowerCase() : asText(raw),
        recordEvent: null,
      });
    }
  return { changes, reread: null };
}

function isWildcard(recordId: string): boolean {
  return recordId.endsWith('*') || recordId === OVERFLOW_RECORD_ID;
}

function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
