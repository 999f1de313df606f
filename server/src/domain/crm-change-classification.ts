/**
 * Who changed a CRM field, from what HubSpot says (`changeSource`, `sourceId`) and what we know we
 * wrote (issue 6). Pure: the caller brings our writes for the same record and property.
 */
export const CHANGE_KINDS = [
  'own_write', // our app wrote it and we have the change that asked for it: the write landed
  'bypass', // an integration other than ours, or our app writing something we have no record of
  'person',
  'workflow',
  'import',
  'system', // HubSpot itself (calculated properties, analytics, merges)
  'record_created',
  'record_deleted',
  'record_merged',
  'record_restored',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export interface ObservedPropertyChange {
  changeSource: string | null;
  sourceId: string | null;
  /** The app the webhook was sent to: ours. HubSpot names an app's API writes by its app id. */
  appId: string | null;
  property: string;
  value: string | null;
}

/** A value our app wrote (an applied change, or a bypass we reverted), for the same record and property. */
export interface KnownWrite {
  value: string | null;
  changeId: string | null;
  agentId: string | null;
}

export type Classification = { kind: ChangeKind; changeId: string | null; agentId: string | null };

// HubSpot's change sources (knowledge.hubspot.com, "HubSpot's change sources in property history").
const PERSON_SOURCES = new Set([
  'CRM_UI',
  'CRM_UI_BULK_ACTION',
  'MOBILE_IOS',
  'MOBILE_ANDROID',
  'SALES',
  'EMAIL',
  'FORM',
  'MEETINGS',
  'CONVERSATIONS',
]);
const WORKFLOW_SOURCES = new Set(['WORKFLOW', 'AUTOMATION_PLATFORM', 'AUTOMATION', 'SEQUENCES']);
const IMPORT_SOURCES = new Set(['IMPORT']);
const INTEGRATION_SOURCES = new Set(['API', 'INTEGRATION', 'INTEGRATIONS_PLATFORM', 'BATCH_UPDATE', 'APP', 'CRM_API']);
/** Provenance properties are written beside governed values in the same call; they have no change row of their own. */
const OWN_PROPERTY_PREFIX = 'ag_';

export function classifyPropertyChange(
  change: ObservedPropertyChange,
  knownWrites: readonly KnownWrite[],
): Classification {
  const none = { changeId: null, agentId: null };
  const source = (change.changeSource ?? '').toUpperCase();
  const fromOurApp = change.appId !== null && change.sourceId !== null && stripPrefix(change.sourceId) === change.appId;
  if (fromOurApp) {
    const match = knownWrites.find((write) => sameValue(write.value, change.value));
    if (match) return { kind: 'own_write', changeId: match.changeId, agentId: match.agentId };
    if (change.property.startsWith(OWN_PROPERTY_PREFIX)) return { kind: 'own_write', ...none };
    return { kind: 'bypass', ...none };
  }
  if (PERSON_SOURCES.has(source) || change.sourceId?.startsWith('userId:')) return { kind: 'person', ...none };
  if (WORKFLOW_SOURCES.has(source)) return { kind: 'workflow', ...none };
  if (IMPORT_SOURCES.has(source)) return { kind: 'import', ...none };
  if (INTEGRATION_SOURCES.has(source)) return { kind: 'bypass', ...none };
  return { kind: 'system', ...none };
}

const RECORD_EVENTS: Record<string, ChangeKind> = {
  creation: 'record_created',
  deletion: 'record_deleted',
  privacyDeletion: 'record_deleted',
  merge: 'record_merged',
  restore: 'record_restored',
};
const OBJECT_TYPES: Record<string, string> = {
  contact: 'contacts',
  deal: 'deals',
  company: 'companies',
  ticket: 'tickets',
};

export type SubscriptionMeaning =
  | { objectType: string; event: 'property_change' }
  | { objectType: string; event: 'record'; kind: ChangeKind }
  | undefined;

/** `contact.propertyChange` → contacts, a property change; anything we do not subscribe to → undefined (stored, then ignored). */
export function readSubscriptionType(subscriptionType: string, objectTypeId: string | undefined): SubscriptionMeaning {
  const [object, event] = subscriptionType.split('.');
  const objectType = object === 'object' ? objectTypeId : OBJECT_TYPES[object ?? ''];
  if (!objectType || !event) return undefined;
  if (event === 'propertyChange') return { objectType, event: 'property_change' };
  const kind = RECORD_EVENTS[event];
  return kind ? { objectType, event: 'record', kind } : undefined;
}

// HubSpot writes an app's source id as the bare id in webhooks and sometimes as "appId:123" in history.
function stripPrefix(sourceId: string): string {
  const colon = sourceId.indexOf(':');
  return colon === -1 ? sourceId : sourceId.slice(colon + 1);
}

/** HubSpot sends a cleared value as ''; we store a cleared proposal as null. */
function sameValue(a: string | null, b: string | null): boolean {
  return (a ?? '') === (b ?? '');
}
