import type { ChangeSource } from '../../../shared/crm-names.ts';

/**
 * Who changed a CRM field, from who the CRM says made the change and what we know we wrote
 * (issue 6). Pure: the caller brings our writes for the same record and property.
 */
export const CHANGE_KINDS = [
  'own_write', // our app wrote it and we have the change that asked for it: the write landed
  'bypass', // an integration other than ours, or our app writing something we have no record of
  'person',
  'workflow',
  'import',
  'system', // the CRM itself (calculated properties, analytics, merges)
  'record_created',
  'record_deleted',
  'record_merged',
  'record_restored',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export interface ObservedPropertyChange {
  /** Who the CRM says made the change, in our words (its adapter reads the CRM's own source names). */
  source: ChangeSource;
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

/** Provenance properties are written beside governed values in the same call; they have no change row of their own. */
const OWN_PROPERTY_PREFIX = 'ag_';

export function classifyPropertyChange(
  change: ObservedPropertyChange,
  knownWrites: readonly KnownWrite[],
): Classification {
  const none = { changeId: null, agentId: null };
  switch (change.source) {
    case 'our_app': {
      const match = knownWrites.find((write) => sameValue(write.value, change.value));
      if (match) return { kind: 'own_write', changeId: match.changeId, agentId: match.agentId };
      if (change.property.startsWith(OWN_PROPERTY_PREFIX)) return { kind: 'own_write', ...none };
      return { kind: 'bypass', ...none };
    }
    case 'integration':
    case 'ai_agent':
      return { kind: 'bypass', ...none };
    case 'crm':
      return { kind: 'system', ...none };
    default:
      return { kind: change.source, ...none };
  }
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

/** The CRM sends a cleared value as ''; we store a cleared proposal as null. */
function sameValue(a: string | null, b: string | null): boolean {
  return (a ?? '') === (b ?? '');
}
