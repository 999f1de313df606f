import { errorResponse, iso, json, type HubSpotRequest, type HubSpotResponse } from './responses.ts';
import type { CustomObjectSchema, CustomObjectStore } from './custom-object-state.ts';
import { notifyChange, type HubSpotState } from './state.ts';

/** The routes over custom objects (the approval object, issue 5); their data is in custom-object-state.ts. */
const OBJECT_TYPE_IDS: Record<string, string> = {
  contacts: '0-1',
  contact: '0-1',
  CONTACT: '0-1',
  '0-1': '0-1',
  deals: '0-3',
  deal: '0-3',
  DEAL: '0-3',
  '0-3': '0-3',
  companies: '0-2',
  company: '0-2',
  COMPANY: '0-2',
  '0-2': '0-2',
};

/** HubSpot accepts an object type id, a fully qualified name or (for standard objects) a name. */
export function resolveObjectTypeId(state: HubSpotState, type: string): string | undefined {
  if (OBJECT_TYPE_IDS[type] !== undefined) return OBJECT_TYPE_IDS[type];
  for (const store of state.custom.objects.values()) {
    if (type === store.schema.objectTypeId || type === store.schema.fullyQualifiedName || type === store.schema.name)
      return store.schema.objectTypeId;
  }
  return undefined;
}

export function customStore(state: HubSpotState, type: string): CustomObjectStore | undefined {
  const objectTypeId = resolveObjectTypeId(state, type);
  return objectTypeId === undefined ? undefined : state.custom.objects.get(objectTypeId);
}

/** The records a record is linked to by default associations, as `objectTypeId:id`. */
export function associationsOf(state: HubSpotState, objectType: string, id: string): string[] {
  const from = resolveObjectTypeId(state, objectType) ?? objectType;
  return [...(state.custom.associations.get(`${from}:${id}`) ?? [])];
}

export function listSchemas(state: HubSpotState): HubSpotResponse {
  return json(200, { results: [...state.custom.objects.values()].map((store) => publicSchema(store.schema)) });
}

export function createSchema(state: HubSpotState, body: unknown): HubSpotResponse {
  const input = body as Partial<CustomObjectSchema> & {
    properties?: Partial<CustomObjectSchema['properties'][number]>[];
  };
  if (
    typeof input?.name !== 'string' ||
    typeof input.primaryDisplayProperty !== 'string' ||
    !Array.isArray(input.properties) ||
    input.labels === undefined
  ) {
    return errorResponse(400, 'VALIDATION_ERROR', 'name, labels, primaryDisplayProperty and properties are required.');
  }
  if ([...state.custom.objects.values()].some((store) => store.schema.name === input.name)) {
    return errorResponse(409, 'OBJECT_ALREADY_EXISTS', `An object schema named ${input.name} already exists.`);
  }
  const properties = input.properties.map((property) => ({
    name: String(property.name),
    label: String(property.label),
    type: String(property.type),
    fieldType: String(property.fieldType),
    hasUniqueValue: property.hasUniqueValue === true,
  }));
  if (!properties.some((property) => property.name === input.primaryDisplayProperty)) {
    return errorResponse(
      400,
      'VALIDATION_ERROR',
      `The primary display property ${input.primaryDisplayProperty} is not among the properties.`,
    );
  }
  const id = String(state.nextId++);
  const schema: CustomObjectSchema = {
    id,
    objectTypeId: `2-${id}`,
    name: input.name,
    fullyQualifiedName: `p${state.portalId}_${input.name}`,
    labels: input.labels,
    primaryDisplayProperty: input.primaryDisplayProperty,
    associatedObjects: (input.associatedObjects ?? []).map(String),
    properties,
    createdAt: state.now(),
  };
  state.custom.objects.set(schema.objectTypeId, { schema, records: new Map() });
  notifyChange(state, { kind: 'custom-objects-changed' });
  return json(201, publicSchema(schema));
}

/** Batch upsert by a unique-value property: HubSpot's documented `new` says whether each was created. */
export function batchUpsert(state: HubSpotState, store: CustomObjectStore, body: unknown): HubSpotResponse {
  const inputs = (body as { inputs?: unknown })?.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0)
    return errorResponse(400, 'VALIDATION_ERROR', 'inputs must be a non-empty array.');
  if (inputs.length > 100)
    return errorResponse(400, 'VALIDATION_ERROR', 'Batch input must contain at most 100 inputs.');
  const known = new Map(store.schema.properties.map((property) => [property.name, property]));
  for (const input of inputs as { id?: unknown; idProperty?: unknown; properties?: Record<string, unknown> }[]) {
    const key = known.get(String(input.idProperty));
    if (key === undefined || !key.hasUniqueValue)
      return errorResponse(
        400,
        'VALIDATION_ERROR',
        `${String(input.idProperty)} is not a unique-value property of ${store.schema.name}.`,
      );
    const unknown = Object.keys(input.properties ?? {}).filter((name) => !known.has(name));
    if (unknown.length > 0)
      return errorResponse(
        400,
        'VALIDATION_ERROR',
        `Property values were not valid: ${unknown.map((name) => `Property "${name}" does not exist`).join('; ')}`,
      );
  }
  const startedAt = state.now();
  const results = (inputs as { id: unknown; idProperty: string; properties?: Record<string, unknown> }[]).map(
    (input) => {
      const keyValue = String(input.id);
      const existing = [...store.records.values()].find((record) => record.properties[input.idProperty] === keyValue);
      const at = state.now();
      const record = existing ?? { id: String(state.nextId++), properties: {}, createdAt: at, updatedAt: at };
      for (const [name, value] of Object.entries(input.properties ?? {})) record.properties[name] = String(value ?? '');
      record.properties[input.idProperty] = keyValue;
      record.updatedAt = at;
      store.records.set(record.id, record);
      return {
        id: record.id,
        new: existing === undefined,
        properties: { ...record.properties, hs_object_id: record.id },
        createdAt: iso(record.createdAt),
        updatedAt: iso(record.updatedAt),
        archived: false,
      };
    },
  );
  notifyChange(state, { kind: 'custom-objects-changed' });
  return json(200, { status: 'COMPLETE', results, startedAt: iso(startedAt), completedAt: iso(state.now()) });
}

/** One page holds every owner: the sandbox has a handful. */
function listOwners(state: HubSpotState): HubSpotResponse {
  const at = iso(state.now());
  const results = [...state.ownerIds].map((id) => ({
    id,
    email: `owner${id}@example.com`,
    firstName: 'Owner',
    lastName: id,
    userId: state.ownerUsers.has(id) ? Number(state.ownerUsers.get(id)) : undefined,
    createdAt: at,
    updatedAt: at,
    archived: false,
  }));
  return json(200, { results });
}

function publicSchema(schema: CustomObjectSchema) {
  return { ...schema, createdAt: iso(schema.createdAt), updatedAt: iso(schema.createdAt), archived: false };
}

/** Routes matched on their own path (not the `{type}` object routes): custom objects, associations, owners. */
export type CustomRoute = {
  method: string;
  template: string;
  pattern: RegExp;
  handle: (state: HubSpotState, request: HubSpotRequest, params: string[]) => HubSpotResponse;
};

export const CUSTOM_OBJECT_ROUTES: CustomRoute[] = [
  {
    method: 'GET',
    template: '/crm-object-schemas/v3/schemas',
    pattern: /^\/crm-object-schemas\/v3\/schemas$/,
    handle: (s) => listSchemas(s),
  },
  {
    method: 'POST',
    template: '/crm-object-schemas/v3/schemas',
    pattern: /^\/crm-object-schemas\/v3\/schemas$/,
    handle: (s, r) => createSchema(s, r.body),
  },
  {
    method: 'POST',
    template: '/crm/v3/objects/{customType}/batch/upsert',
    pattern: /^\/crm\/v3\/objects\/([^/]+)\/batch\/upsert$/,
    handle: (s, r, [type = '']) => {
      const store = customStore(s, type);
      return store === undefined
        ? errorResponse(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${type}`)
        : batchUpsert(s, store, r.body);
    },
  },
  { method: 'GET', template: '/crm/v3/owners', pattern: /^\/crm\/v3\/owners$/, handle: (s) => listOwners(s) },
];
