import { createHash } from 'node:crypto';

/**
 * The Avro schema of a Change Data Capture event, in the shape Salesforce publishes it: a record
 * `<Entity>ChangeEvent` in `com.sforce.eventbus` whose first field is the `ChangeEventHeader`,
 * then one nullable field per field of the object. The header's `changedFields`, `nulledFields`
 * and `diffFields` are bitmaps over the positions of those fields ("0x" then upper-case hex, bit
 * i = field i), which the Pub/Sub client turns back into names with the schema it fetched.
 */

export const CHANGE_TYPES = [
  'CREATE',
  'UPDATE',
  'DELETE',
  'UNDELETE',
  'GAP_CREATE',
  'GAP_UPDATE',
  'GAP_DELETE',
  'GAP_UNDELETE',
  'GAP_OVERFLOW',
  'SNAPSHOT',
] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

export type FieldType = 'string' | 'double' | 'boolean' | 'datetime';
export interface FieldSpec {
  name: string;
  type: FieldType;
}

const AVRO_TYPE: Record<FieldType, string> = {
  string: 'string',
  double: 'double',
  boolean: 'boolean',
  datetime: 'long',
};

const HEADER = {
  type: 'record',
  name: 'ChangeEventHeader',
  namespace: 'com.sforce.eventbus',
  fields: [
    { name: 'entityName', type: 'string' },
    { name: 'recordIds', type: { type: 'array', items: 'string' } },
    {
      name: 'changeType',
      type: { type: 'enum', name: 'ChangeType', namespace: 'com.sforce.eventbus', symbols: CHANGE_TYPES },
    },
    { name: 'changeOrigin', type: 'string' },
    { name: 'transactionKey', type: 'string' },
    { name: 'sequenceNumber', type: 'int' },
    { name: 'commitTimestamp', type: 'long' },
    { name: 'commitNumber', type: 'long' },
    { name: 'commitUser', type: 'string' },
    { name: 'nulledFields', type: { type: 'array', items: 'string' } },
    { name: 'diffFields', type: { type: 'array', items: 'string' } },
    { name: 'changedFields', type: { type: 'array', items: 'string' } },
  ],
};

/** Every change event carries these besides the object's own fields. */
export const SYSTEM_FIELDS: readonly FieldSpec[] = [
  { name: 'LastModifiedDate', type: 'datetime' },
  { name: 'LastModifiedById', type: 'string' },
];

export interface ChangeEventSchema {
  id: string;
  json: string;
  entity: string;
  /** The object's fields in schema order (the header is position 0, so field i is bit i + 1). */
  fields: readonly FieldSpec[];
}

/** `Contact` → `ContactChangeEvent`; `Agent_Approval__c` → `Agent_Approval__ChangeEvent`. */
export function changeEventName(entity: string): string {
  return entity.endsWith('__c') ? `${entity.slice(0, -1)}ChangeEvent` : `${entity}ChangeEvent`;
}

export function buildChangeEventSchema(entity: string, fields: readonly FieldSpec[]): ChangeEventSchema {
  const json = JSON.stringify({
    type: 'record',
    name: changeEventName(entity),
    namespace: 'com.sforce.eventbus',
    fields: [
      { name: 'ChangeEventHeader', type: HEADER },
      ...fields.map((field) => ({ name: field.name, type: ['null', AVRO_TYPE[field.type]], default: null })),
    ],
  });
  // Salesforce's schema ids are opaque and change when the object's fields change; a digest of the schema is both.
  const id = createHash('sha256').update(json).digest('base64url').slice(0, 22);
  return { id, json, entity, fields };
}

/** Field names → the header's bitmap: `["0x…"]`, or `[]` when none. */
export function fieldBitmap(schema: ChangeEventSchema, names: readonly string[]): string[] {
  let bits = 0n;
  for (const name of names) {
    const index = schema.fields.findIndex((field) => field.name === name);
    if (index >= 0) bits |= 1n << BigInt(index + 1);
  }
  return bits === 0n ? [] : [`0x${bits.toString(16).toUpperCase()}`];
}

/** A value as the field's Avro type takes it (null stays null). */
export function avroValue(type: FieldType, value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'double':
      return Number(value);
    case 'boolean':
      return value === true || value === 'true';
    case 'datetime':
      return value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(String(value));
    default:
      return String(value);
  }
}
