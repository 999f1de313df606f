import { randomUUID } from 'node:crypto';
import avro from 'avro-js';
import {
  avroValue,
  buildChangeEventSchema,
  type ChangeEventSchema,
  type ChangeType,
  changeEventName,
  type FieldSpec,
  fieldBitmap,
  SYSTEM_FIELDS,
} from './change-event-schema.ts';

/**
 * The sandbox's event bus: the change events of one org, each with its replay id, kept 72 hours
 * as Salesforce keeps them (on the sandbox's clock, so a test can step past the retention).
 * The REST sandbox reports each committed record change here (`publishRecordChanges`); the
 * Pub/Sub endpoint reads from it.
 */

/** A record change as the REST sandbox commits it: what changed, through which client, by whom. */
export interface RecordChange {
  /** The sObject: Contact, Lead, Opportunity, Agent_Approval__c. */
  entity: string;
  recordIds: readonly string[];
  changeType: 'CREATE' | 'UPDATE' | 'DELETE' | 'UNDELETE';
  /** The fields an UPDATE set (a CREATE's fields are its values). */
  changedFields: readonly string[];
  /** The new values of the changed fields (null clears a field). */
  values: Readonly<Record<string, unknown>>;
  /**
   * The `client` of the caller's `Sforce-Call-Options`; `null` for an API call without it;
   * `UI_CLIENT` for an edit in Salesforce's own pages; `undefined` for a change with no origin
   * (Salesforce fills none for changes made inside the database, such as cleanup jobs).
   */
  origin: string | null | undefined;
  /** The id of the user the change ran as. */
  commitUser: string;
  /** The API the change came through; `rest` unless said. */
  api?: 'rest' | 'soap' | 'bulkapi' | 'apex';
  /** The API version the call named (`67.0`); the endpoint's own unless said. */
  apiVersion?: string;
}

/** How a Lightning page edit shows in `changeOrigin` (`com/salesforce/api/soap/<v>;client=SfdcInternalAPI/`). */
export const UI_CLIENT = 'SfdcInternalAPI/';
const API_VERSION = '66.0';
/** Salesforce emits normal events for the first 100,000 changes of a transaction, then one GAP_OVERFLOW per entity. */
export const OVERFLOW_AFTER = 100_000;
export const OVERFLOW_RECORD_ID = '000000000000000AAA';
export const RETENTION_MS = 72 * 60 * 60 * 1000;

/** Fields each governed object's events carry from the start; others join the schema when first changed. */
const DEFAULT_FIELDS: Record<string, readonly FieldSpec[]> = {
  Contact: [
    { name: 'FirstName', type: 'string' },
    { name: 'LastName', type: 'string' },
    { name: 'Email', type: 'string' },
    { name: 'Title', type: 'string' },
    { name: 'Phone', type: 'string' },
    { name: 'OwnerId', type: 'string' },
    { name: 'HasOptedOutOfEmail', type: 'boolean' },
  ],
  Lead: [
    { name: 'FirstName', type: 'string' },
    { name: 'LastName', type: 'string' },
    { name: 'Company', type: 'string' },
    { name: 'Email', type: 'string' },
    { name: 'Status', type: 'string' },
    { name: 'OwnerId', type: 'string' },
    { name: 'HasOptedOutOfEmail', type: 'boolean' },
  ],
  Opportunity: [
    { name: 'Name', type: 'string' },
    { name: 'StageName', type: 'string' },
    { name: 'Amount', type: 'double' },
    { name: 'CloseDate', type: 'string' },
    { name: 'OwnerId', type: 'string' },
  ],
  Agent_Approval__c: [
    { name: 'Status__c', type: 'string' },
    { name: 'Decided_By__c', type: 'string' },
    { name: 'Contact__c', type: 'string' },
    { name: 'Lead__c', type: 'string' },
    { name: 'Opportunity__c', type: 'string' },
  ],
};

export interface StoredEvent {
  replayId: bigint;
  entity: string;
  eventId: string;
  schemaId: string;
  payload: Buffer;
  committedAt: number;
}

export type ReplayFrom = { preset: 'latest' } | { preset: 'earliest' } | { preset: 'custom'; replayId: bigint };

export class ReplayIdInvalidError extends Error {}

export interface EventBusOptions {
  now?: () => number;
  /** Changes per transaction before the rest become one GAP_OVERFLOW per entity (Salesforce: 100,000). */
  overflowAfter?: number;
}

export class ChangeEventBus {
  readonly #now: () => number;
  readonly #overflowAfter: number;
  readonly #fields = new Map<string, FieldSpec[]>();
  readonly #schemas = new Map<string, ChangeEventSchema>();
  readonly #currentSchema = new Map<string, ChangeEventSchema>();
  readonly #types = new Map<string, { toBuffer(value: unknown): Buffer }>();
  #events: StoredEvent[] = [];
  #latest = 0n;
  /** Every event up to this replay id has left the retention window. */
  #expiredUpTo = 0n;
  #commitNumber = 1000n;
  readonly #listeners = new Set<() => void>();

  constructor(options: EventBusOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#overflowAfter = options.overflowAfter ?? OVERFLOW_AFTER;
  }

  /** The entity whose events a topic carries, `null` for `/data/ChangeEvents` (all), undefined for no such topic. */
  entityOfTopic(topicName: string): string | null | undefined {
    if (topicName === '/data/ChangeEvents') return null;
    for (const entity of this.entities()) if (topicName === `/data/${changeEventName(entity)}`) return entity;
    return undefined;
  }

  entities(): string[] {
    return [...new Set([...Object.keys(DEFAULT_FIELDS), ...this.#fields.keys()])];
  }

  schemaOf(entity: string): ChangeEventSchema {
    return this.#schemaFor(entity, []);
  }

  schemaById(id: string): ChangeEventSchema | undefined {
    return this.#schemas.get(id);
  }

  latestReplayId(): bigint {
    return this.#latest;
  }

  /** Commits one transaction's changes: an event per change, in order, sharing a transaction key. */
  publishRecordChanges(changes: readonly RecordChange[]): bigint[] {
    const transactionKey = randomUUID();
    const commitTimestamp = this.#now();
    const commitNumber = ++this.#commitNumber;
    const published: bigint[] = [];
    let counted = 0;
    const overflowed = new Map<string, RecordChange>();
    let sequence = 0;
    for (const change of changes) {
      const weight =
        change.changeType === 'UPDATE'
          ? change.recordIds.length * change.changedFields.length
          : change.recordIds.length;
      if (counted + weight > this.#overflowAfter || overflowed.size > 0) {
        if (!overflowed.has(change.entity)) overflowed.set(change.entity, change);
        continue;
      }
      counted += weight;
      const fields =
        change.changeType === 'UPDATE' ? [...change.changedFields, 'LastModifiedDate'] : Object.keys(change.values);
      const schema = this.#schemaFor(change.entity, Object.keys(change.values));
      const values: Record<string, unknown> = { ...change.values };
      if (change.changeType !== 'DELETE') values.LastModifiedDate = commitTimestamp;
      published.push(
        this.#store(schema, {
          header: {
            recordIds: change.recordIds,
            changeType: change.changeType,
            changeOrigin: changeOrigin(change),
            commitUser: change.commitUser,
            changedFields: change.changeType === 'UPDATE' ? fieldBitmap(schema, fields) : [],
            nulledFields: fieldBitmap(
              schema,
              Object.entries(change.values)
                .filter(([, value]) => value === null)
                .map(([name]) => name),
            ),
          },
          values: change.changeType === 'DELETE' ? {} : values,
          transactionKey,
          sequenceNumber: ++sequence,
          commitTimestamp,
          commitNumber,
        }),
      );
    }
    for (const [entity, change] of overflowed) {
      published.push(
        this.#store(this.#schemaFor(entity, []), {
          header: {
            recordIds: [OVERFLOW_RECORD_ID],
            changeType: 'GAP_OVERFLOW',
            changeOrigin: changeOrigin(change),
            commitUser: change.commitUser,
            changedFields: [],
            nulledFields: [],
          },
          values: {},
          transactionKey,
          sequenceNumber: ++sequence,
          commitTimestamp,
          commitNumber,
        }),
      );
    }
    this.#wake();
    return published;
  }

  /** A gap event: header only, no values, no origin (Salesforce sends one when it cannot send the change itself). */
  publishGap(entity: string, recordIds: readonly string[], changeType: ChangeType, commitUser: string): bigint {
    const replayId = this.#store(this.#schemaFor(entity, []), {
      header: { recordIds, changeType, changeOrigin: '', commitUser, changedFields: [], nulledFields: [] },
      values: {},
      transactionKey: randomUUID(),
      sequenceNumber: 1,
      commitTimestamp: this.#now(),
      commitNumber: ++this.#commitNumber,
    });
    this.#wake();
    return replayId;
  }

  /**
   * Events after the starting point, for the entity (null: all), at most `limit`. A custom
   * replay id is refused when events after it have left the retention window, or when it is
   * beyond the latest: the subscriber would miss events without knowing.
   */
  read(entity: string | null, after: bigint, limit: number): StoredEvent[] {
    this.#expire();
    const found: StoredEvent[] = [];
    for (const event of this.#events) {
      if (found.length >= limit) break;
      if (event.replayId > after && (entity === null || event.entity === entity)) found.push(event);
    }
    return found;
  }

  /** Where a subscription starts: the replay id its first event must follow. */
  startingPoint(from: ReplayFrom): bigint {
    this.#expire();
    if (from.preset === 'latest') return this.#latest;
    if (from.preset === 'earliest') return this.#expiredUpTo;
    if (from.replayId < this.#expiredUpTo || from.replayId > this.#latest)
      throw new ReplayIdInvalidError(
        `The replay ID ${from.replayId} is not valid: events after it are no longer retained (72 hours) or it was never issued.`,
      );
    return from.replayId;
  }

  onPublish(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #wake(): void {
    for (const listener of this.#listeners) listener();
  }

  #expire(): void {
    const horizon = this.#now() - RETENTION_MS;
    let drop = 0;
    while (drop < this.#events.length && (this.#events[drop]?.committedAt ?? Infinity) < horizon) drop += 1;
    if (drop === 0) return;
    this.#expiredUpTo = this.#events[drop - 1]?.replayId ?? this.#expiredUpTo;
    this.#events = this.#events.slice(drop);
  }

  /** The entity's current schema, grown by any field not in it yet (a new schema id, as when an admin adds a field). */
  #schemaFor(entity: string, names: readonly string[]): ChangeEventSchema {
    let fields = this.#fields.get(entity);
    if (!fields) {
      fields = [...(DEFAULT_FIELDS[entity] ?? []), ...SYSTEM_FIELDS];
      this.#fields.set(entity, fields);
    }
    const missing = names.filter((name) => !fields.some((field) => field.name === name));
    let schema = this.#currentSchema.get(entity);
    if (schema && missing.length === 0) return schema;
    for (const name of missing) fields.push({ name, type: 'string' });
    schema = buildChangeEventSchema(entity, fields);
    this.#schemas.set(schema.id, schema);
    this.#currentSchema.set(entity, schema);
    this.#types.set(schema.id, avro.parse(schema.json));
    return schema;
  }

  #store(
    schema: ChangeEventSchema,
    event: {
      header: {
        recordIds: readonly string[];
        changeType: ChangeType;
        changeOrigin: string;
        commitUser: string;
        changedFields: string[];
        nulledFields: string[];
      };
      values: Record<string, unknown>;
      transactionKey: string;
      sequenceNumber: number;
      commitTimestamp: number;
      commitNumber: bigint;
    },
  ): bigint {
    const record: Record<string, unknown> = {
      ChangeEventHeader: {
        entityName: schema.entity,
        recordIds: [...event.header.recordIds],
        changeType: event.header.changeType,
        changeOrigin: event.header.changeOrigin,
        transactionKey: event.transactionKey,
        sequenceNumber: event.sequenceNumber,
        commitTimestamp: event.commitTimestamp,
        commitNumber: Number(event.commitNumber),
        commitUser: event.header.commitUser,
        nulledFields: event.header.nulledFields,
        diffFields: [],
        changedFields: event.header.changedFields,
      },
    };
    for (const field of schema.fields) {
      const value = avroValue(field.type, event.values[field.name]);
      // Avro's JSON form of a union names the branch taken.
      record[field.name] = value === null ? null : { [avroBranch(field.type)]: value };
    }
    const type = this.#types.get(schema.id);
    if (!type) throw new Error(`no Avro type for schema ${schema.id}`);
    // Replay ids are opaque and not contiguous: step by a varying amount so no subscriber relies on +1.
    this.#latest += 1n + BigInt(this.#events.length % 3);
    const stored: StoredEvent = {
      replayId: this.#latest,
      entity: schema.entity,
      eventId: randomUUID(),
      schemaId: schema.id,
      payload: type.toBuffer(record),
      committedAt: event.commitTimestamp,
    };
    this.#events.push(stored);
    return stored.replayId;
  }
}

function avroBranch(type: FieldSpec['type']): string {
  return type === 'datetime' ? 'long' : type;
}

function changeOrigin(change: RecordChange): string {
  if (change.origin === undefined) return '';
  const api = change.origin === UI_CLIENT ? 'soap' : (change.api ?? 'rest');
  const base = `com/salesforce/api/${api}/${change.apiVersion ?? API_VERSION}`;
  return change.origin === null ? base : `${base};client=${change.origin}`;
}
