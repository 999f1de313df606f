import { CallLog } from './call-log.ts';
import { createCustomObjectState, type CustomObjectState } from './custom-object-state.ts';
import { HubSpotFaults } from './faults.ts';
import {
  buildDefinition,
  DEFAULT_GROUPS,
  DEFAULT_PROPERTIES,
  type FakePropertyDefinition,
  type FakePropertyGroup,
} from './property-defaults.ts';
import { DEFAULT_TEAMS, DEFAULT_USERS, type FakeUser } from './fake-users.ts';

export const FAKE_OBJECT_TYPES = ['contacts', 'deals'] as const;
export type FakeObjectType = (typeof FAKE_OBJECT_TYPES)[number];

export type HistorySourceType = 'API' | 'CRM_UI' | 'WORKFLOW' | 'IMPORT';

export interface HistoryEntry {
  value: string;
  timestamp: number;
  sourceType: HistorySourceType;
  sourceId: string;
  updatedByUserId?: number;
}

export interface FakeRecord {
  id: string;
  createdAt: number;
  updatedAt: number;
  /** Per property, oldest first; the last entry is the current value. */
  history: Map<string, HistoryEntry[]>;
}

export interface ObjectStore {
  records: Map<string, FakeRecord>;
  properties: Map<string, FakePropertyDefinition>;
  groups: Map<string, FakePropertyGroup>;
  /** HubSpot keeps 45 revisions per contact property and 20 for other objects; older ones fall off. */
  historyLimit: number;
}

/**
 * What changed in the state, for whoever listens: the sandbox's file persistence saves on any
 * change, its webhook sender turns record changes into HubSpot's events.
 */
export type StateChange =
  | { kind: 'record-created'; objectType: FakeObjectType; recordId: string; at: number }
  | { kind: 'record-archived'; objectType: FakeObjectType; recordId: string; at: number }
  | {
      kind: 'property-changed';
      objectType: FakeObjectType;
      recordId: string;
      propertyName: string;
      entry: HistoryEntry;
    }
  | { kind: 'schema-changed'; objectType: FakeObjectType }
  /** Custom object schemas, their records or associations changed (no webhooks: the app does not subscribe to them). */
  | { kind: 'custom-objects-changed' };

export type StateListener = (change: StateChange) => void;

export interface HubSpotState {
  /** The one token the account accepts; a test rotating the private app's token replaces it, revoking the old one. */
  accessToken: string;
  /** Recorded as `sourceId` of API writes, as HubSpot records the app that wrote. */
  readonly appId: string;
  readonly now: () => number;
  readonly objects: Record<FakeObjectType, ObjectStore>;
  /** The account's id, as in custom objects' fully qualified names. */
  readonly portalId: string;
  /** Valid values of `hubspot_owner_id`. */
  readonly ownerIds: Set<string>;
  /** Owner id → the user id of the person behind it; the sandbox plays them equal unless a test says otherwise. */
  readonly ownerUsers: Map<string, string>;
  /** The account's users by user id, with their teams (Settings API). */
  readonly users: Map<string, FakeUser>;
  /** Team id → name. */
  readonly teams: Map<string, string>;
  /** List id → the ids of its member records (the Lists API's memberships). */
  readonly lists: Map<string, Set<string>>;
  readonly custom: CustomObjectState;
  readonly faults: HubSpotFaults;
  readonly calls: CallLog;
  readonly listeners: Set<StateListener>;
  nextId: number;
}

export interface CreateHubSpotStateOptions {
  accessToken?: string;
  appId?: string;
  portalId?: string;
  now?: () => number;
  ownerIds?: readonly string[];
}

export const FAKE_ACCESS_TOKEN = 'pat-na1-fake-token';

export function createHubSpotState(options: CreateHubSpotStateOptions = {}): HubSpotState {
  const now = options.now ?? Date.now;
  const at = now();
  const store = (type: FakeObjectType, historyLimit: number): ObjectStore => ({
    records: new Map(),
    properties: new Map(DEFAULT_PROPERTIES[type].map((seed, index) => [seed.name, buildDefinition(seed, index, at)])),
    groups: new Map(
      DEFAULT_GROUPS[type].map((group, index) => [group.name, { ...group, displayOrder: index, archived: false }]),
    ),
    historyLimit,
  });
  return {
    accessToken: options.accessToken ?? FAKE_ACCESS_TOKEN,
    appId: options.appId ?? '4242424',
    now,
    objects: { contacts: store('contacts', 45), deals: store('deals', 20) },
    portalId: options.portalId ?? '62515',
    ownerIds: new Set(options.ownerIds ?? ['1001', '1002', '1003']),
    ownerUsers: new Map((options.ownerIds ?? ['1001', '1002', '1003']).map((id) => [id, id])),
    users: new Map(
      [...DEFAULT_USERS].map(([id, user]) => [id, { ...user, secondaryTeamIds: [...user.secondaryTeamIds] }]),
    ),
    teams: new Map(DEFAULT_TEAMS),
    lists: new Map(),
    custom: createCustomObjectState(),
    faults: new HubSpotFaults(),
    calls: new CallLog(),
    listeners: new Set(),
    nextId: 1001,
  };
}

export function isFakeObjectType(value: string): value is FakeObjectType {
  return (FAKE_OBJECT_TYPES as readonly string[]).includes(value);
}

/** Appends one revision and trims to HubSpot's cap, so tests see the same history loss HubSpot causes. */
export function appendHistory(store: ObjectStore, record: FakeRecord, name: string, entry: HistoryEntry): void {
  const entries = record.history.get(name) ?? [];
  entries.push(entry);
  if (entries.length > store.historyLimit) entries.splice(0, entries.length - store.historyLimit);
  record.history.set(name, entries);
  record.updatedAt = Math.max(record.updatedAt, entry.timestamp);
}

export function notifyChange(state: HubSpotState, change: StateChange): void {
  for (const listener of state.listeners) listener(change);
}

export function currentValue(record: FakeRecord, name: string): string | undefined {
  // HubSpot computes a contact's email domain from its email; search filters on it like any property.
  if (name === 'hs_email_domain') {
    const email = record.history.get('email')?.at(-1)?.value;
    return email?.includes('@') ? email.slice(email.lastIndexOf('@') + 1).toLowerCase() : undefined;
  }
  return record.history.get(name)?.at(-1)?.value;
}

export interface SeedRecordInput {
  id?: string;
  properties: Record<string, string>;
  /** How the values got there; an import by default. */
  sourceType?: HistorySourceType;
  sourceId?: string;
  at?: number;
}

/** Creates a record directly in the state (no HTTP, no validation beyond property existence). Returns its id. */
export function seedRecord(state: HubSpotState, objectType: FakeObjectType, input: SeedRecordInput): string {
  const store = state.objects[objectType];
  const id = input.id ?? String(state.nextId++);
  const at = input.at ?? state.now();
  const record: FakeRecord = { id, createdAt: at, updatedAt: at, history: new Map() };
  store.records.set(id, record);
  notifyChange(state, { kind: 'record-created', objectType, recordId: id, at });
  const sourceType = input.sourceType ?? 'IMPORT';
  writeValues(state, objectType, record, input.properties, {
    timestamp: at,
    sourceType,
    sourceId: input.sourceId ?? `${sourceType}:seed`,
  });
  return id;
}

/** Changes values the way a person does in HubSpot's UI: history says CRM_UI with their user id. */
export function editAsPerson(
  state: HubSpotState,
  input: {
    objectType: FakeObjectType;
    recordId: string;
    properties: Record<string, string>;
    userId: number;
    at?: number;
  },
): void {
  const record = requireRecord(state, input.objectType, input.recordId);
  writeValues(state, input.objectType, record, input.properties, {
    timestamp: input.at ?? state.now(),
    sourceType: 'CRM_UI',
    sourceId: `userId:${input.userId}`,
    updatedByUserId: input.userId,
  });
}

/** Changes values the way a HubSpot workflow does: history says WORKFLOW with the workflow id. */
export function editAsWorkflow(
  state: HubSpotState,
  input: {
    objectType: FakeObjectType;
    recordId: string;
    properties: Record<string, string>;
    workflowId: string;
    at?: number;
  },
): void {
  const record = requireRecord(state, input.objectType, input.recordId);
  writeValues(state, input.objectType, record, input.properties, {
    timestamp: input.at ?? state.now(),
    sourceType: 'WORKFLOW',
    sourceId: input.workflowId,
  });
}

/** Current values of a record (test assertions); undefined when the record does not exist. */
export function recordValues(
  state: HubSpotState,
  objectType: FakeObjectType,
  recordId: string,
): Record<string, string> | undefined {
  const record = state.objects[objectType].records.get(recordId);
  if (record === undefined) return undefined;
  const values: Record<string, string> = {};
  for (const [name, entries] of record.history) {
    const last = entries.at(-1);
    if (last !== undefined) values[name] = last.value;
  }
  return values;
}

/** Revisions of one property, newest first as HubSpot lists them. */
export function propertyHistory(
  state: HubSpotState,
  objectType: FakeObjectType,
  recordId: string,
  name: string,
): HistoryEntry[] {
  const entries = state.objects[objectType].records.get(recordId)?.history.get(name) ?? [];
  return [...entries].reverse();
}

function requireRecord(state: HubSpotState, objectType: FakeObjectType, recordId: string): FakeRecord {
  const record = state.objects[objectType].records.get(recordId);
  if (record === undefined) throw new Error(`The fake HubSpot has no ${objectType} record ${recordId}`);
  return record;
}

function writeValues(
  state: HubSpotState,
  objectType: FakeObjectType,
  record: FakeRecord,
  properties: Record<string, string>,
  source: Omit<HistoryEntry, 'value'>,
): void {
  const store = state.objects[objectType];
  for (const [name, value] of Object.entries(properties)) {
    // A typo in a test's seed should fail loudly, not quietly create a property HubSpot would not have.
    if (!store.properties.has(name)) throw new Error(`The fake HubSpot has no ${objectType} property ${name}`);
    const entry: HistoryEntry = { ...source, value };
    appendHistory(store, record, name, entry);
    notifyChange(state, { kind: 'property-changed', objectType, recordId: record.id, propertyName: name, entry });
  }
}
