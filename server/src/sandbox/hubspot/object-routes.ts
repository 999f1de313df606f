import { DEFAULT_READ_PROPERTIES } from './property-defaults.ts';
import { errorResponse, iso, json, readQuery, type HubSpotRequest, type HubSpotResponse } from './responses.ts';
import {
  appendHistory,
  currentValue,
  notifyChange,
  type FakeObjectType,
  type FakeRecord,
  type HistoryEntry,
  type HubSpotState,
} from './state.ts';
import { checkValue, unknownProperty, validationMessage, type PropertyValidationResult } from './validation.ts';

const BATCH_LIMIT = 100;
const SINGULAR: Record<FakeObjectType, string> = { contacts: 'CONTACT', deals: 'DEAL' };
// HubSpot puts these on every record it returns, asked for or not.
const ALWAYS_RETURNED: Record<FakeObjectType, readonly string[]> = {
  contacts: ['hs_object_id', 'createdate', 'lastmodifieddate'],
  deals: ['hs_object_id', 'createdate', 'hs_lastmodifieddate'],
};

interface BatchError {
  status: 'error';
  category: 'OBJECT_NOT_FOUND' | 'VALIDATION_ERROR';
  message: string;
  context: { ids: string[] };
}

export function batchRead(state: HubSpotState, objectType: FakeObjectType, body: unknown): HubSpotResponse {
  const parsed = parseInputs(body);
  if (typeof parsed === 'string') return errorResponse(400, 'VALIDATION_ERROR', parsed);
  const request = body as { properties?: unknown; propertiesWithHistory?: unknown };
  const properties = stringList(request.properties);
  const withHistory = stringList(request.propertiesWithHistory);
  const startedAt = state.now();
  const store = state.objects[objectType];

  const results: unknown[] = [];
  const missing: string[] = [];
  for (const { id } of parsed) {
    const record = store.records.get(id);
    if (record === undefined) missing.push(id);
    else results.push(publicObject(state, objectType, record, properties, withHistory));
  }
  const errors: BatchError[] = missing.length === 0 ? [] : [notFound(objectType, missing)];
  return batchResponse(results, errors, startedAt, state.now());
}

export function batchUpdate(state: HubSpotState, objectType: FakeObjectType, body: unknown): HubSpotResponse {
  const parsed = parseInputs(body);
  if (typeof parsed === 'string') return errorResponse(400, 'VALIDATION_ERROR', parsed);
  const ids = parsed.map((input) => input.id);
  const duplicates = ids.filter((id, index) => ids.indexOf(id) !== index);
  if (duplicates.length > 0)
    return errorResponse(
      400,
      'VALIDATION_ERROR',
      `Duplicate IDs found in batch input: [${[...new Set(duplicates)].join(', ')}]. IDs must be unique`,
    );

  // HubSpot validates every value before writing any: one bad value fails the whole batch.
  const store = state.objects[objectType];
  const failures: PropertyValidationResult[] = [];
  const normalised = parsed.map((input) => {
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(input.properties ?? {})) {
      const definition = store.properties.get(name);
      if (definition === undefined) {
        failures.push(unknownProperty(name));
        continue;
      }
      const check = checkValue(definition, value, state.ownerIds);
      if (check.ok) values[name] = check.value;
      else failures.push(check.result);
    }
    return { id: input.id, values };
  });
  if (failures.length > 0) return errorResponse(400, 'VALIDATION_ERROR', validationMessage(failures));

  const startedAt = state.now();
  const results: unknown[] = [];
  const missing: string[] = [];
  const errors: BatchError[] = [];
  for (const { id, values } of normalised) {
    const record = store.records.get(id);
    if (record === undefined) {
      missing.push(id);
      continue;
    }
    const rejection = state.faults.rejectionFor(objectType, id);
    if (rejection !== undefined) {
      errors.push({ status: 'error', category: 'VALIDATION_ERROR', message: rejection, context: { ids: [id] } });
      continue;
    }
    const timestamp = state.now();
    for (const [name, value] of Object.entries(values)) {
      const entry: HistoryEntry = { value, timestamp, sourceType: 'API', sourceId: state.appId };
      appendHistory(store, record, name, entry);
      notifyChange(state, { kind: 'property-changed', objectType, recordId: id, propertyName: name, entry });
    }
    record.updatedAt = timestamp;
    results.push(publicObject(state, objectType, record, Object.keys(values), []));
  }
  if (missing.length > 0) errors.unshift(notFound(objectType, missing));
  return batchResponse(results, errors, startedAt, state.now());
}

/**
 * `POST /crm/v3/objects/{type}/batch/create`: HubSpot validates every value before creating any
 * (one bad value fails the batch with 400), then answers 201 with the created records and the
 * properties that were set. A record-level rejection fault (keyed by the new id) fails that input alone.
 */
export function batchCreate(state: HubSpotState, objectType: FakeObjectType, body: unknown): HubSpotResponse {
  const inputs = (body as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs))
    return errorResponse(
      400,
      'VALIDATION_ERROR',
      'Invalid input JSON on line 1: the field "inputs" is required and must be an array.',
    );
  if (inputs.length > BATCH_LIMIT)
    return errorResponse(
      400,
      'VALIDATION_ERROR',
      `Too many inputs: ${inputs.length}. The maximum number of inputs per batch is ${BATCH_LIMIT}.`,
    );
  const store = state.objects[objectType];
  const failures: PropertyValidationResult[] = [];
  const normalised: Record<string, string>[] = [];
  for (const input of inputs as unknown[]) {
    const properties = (input as { properties?: unknown } | null)?.properties;
    if (typeof properties !== 'object' || properties === null)
      return errorResponse(400, 'VALIDATION_ERROR', 'Invalid input JSON: every input needs a "properties" object.');
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(properties)) {
      const definition = store.properties.get(name);
      if (definition === undefined) {
        failures.push(unknownProperty(name));
        continue;
      }
      const check = checkValue(definition, value, state.ownerIds);
      if (check.ok) values[name] = check.value;
      else failures.push(check.result);
    }
    normalised.push(values);
  }
  if (failures.length > 0) return errorResponse(400, 'VALIDATION_ERROR', validationMessage(failures));

  const startedAt = state.now();
  const results: unknown[] = [];
  for (const values of normalised) {
    const id = String(state.nextId++);
    const timestamp = state.now();
    const record: FakeRecord = { id, createdAt: timestamp, updatedAt: timestamp, history: new Map() };
    store.records.set(id, record);
    notifyChange(state, { kind: 'record-created', objectType, recordId: id, at: timestamp });
    for (const [name, value] of Object.entries(values)) {
      const entry: HistoryEntry = { value, timestamp, sourceType: 'API', sourceId: state.appId };
      appendHistory(store, record, name, entry);
      notifyChange(state, { kind: 'property-changed', objectType, recordId: id, propertyName: name, entry });
    }
    results.push(publicObject(state, objectType, record, Object.keys(values), []));
  }
  return { ...batchResponse(results, [], startedAt, state.now()), status: 201 };
}

/** `POST /crm/v3/objects/{type}/batch/archive`: 204 whether or not each id exists, as HubSpot answers. */
export function batchArchive(state: HubSpotState, objectType: FakeObjectType, body: unknown): HubSpotResponse {
  const parsed = parseInputs(body);
  if (typeof parsed === 'string') return errorResponse(400, 'VALIDATION_ERROR', parsed);
  const store = state.objects[objectType];
  for (const { id } of parsed) {
    if (!store.records.delete(id)) continue;
    notifyChange(state, { kind: 'record-archived', objectType, recordId: id, at: state.now() });
  }
  return { status: 204, headers: {}, body: undefined };
}

export function getOne(
  state: HubSpotState,
  objectType: FakeObjectType,
  recordId: string,
  request: HubSpotRequest,
): HubSpotResponse {
  const record = state.objects[objectType].records.get(recordId);
  if (record === undefined) {
    return errorResponse(404, 'OBJECT_NOT_FOUND', `Object not found.  objectId are usually numeric.`, {
      id: [recordId],
    });
  }
  const properties = splitList(readQuery(request, 'properties'));
  const withHistory = splitList(readQuery(request, 'propertiesWithHistory'));
  return json(200, publicObject(state, objectType, record, properties, withHistory));
}

export function publicObject(
  state: HubSpotState,
  objectType: FakeObjectType,
  record: FakeRecord,
  properties: readonly string[],
  withHistory: readonly string[],
) {
  const store = state.objects[objectType];
  const names = new Set([
    ...(properties.length > 0 ? properties : DEFAULT_READ_PROPERTIES[objectType]),
    ...ALWAYS_RETURNED[objectType],
  ]);
  const values: Record<string, string | null> = {};
  // HubSpot silently leaves out requested properties that do not exist.
  for (const name of names) {
    if (store.properties.has(name))
      values[name] = computedValue(objectType, record, name) ?? currentValue(record, name) ?? null;
  }
  const object: Record<string, unknown> = {
    id: record.id,
    properties: values,
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
    archived: false,
  };
  const history: Record<string, unknown[]> = {};
  for (const name of withHistory) {
    if (!store.properties.has(name)) continue;
    history[name] = [...(record.history.get(name) ?? [])].reverse().map((entry) => ({
      value: entry.value,
      timestamp: iso(entry.timestamp),
      sourceType: entry.sourceType,
      sourceId: entry.sourceId,
      ...(entry.updatedByUserId === undefined ? {} : { updatedByUserId: entry.updatedByUserId }),
    }));
  }
  if (withHistory.length > 0) object['propertiesWithHistory'] = history;
  return object;
}

function computedValue(objectType: FakeObjectType, record: FakeRecord, name: string): string | undefined {
  if (name === 'hs_object_id') return record.id;
  if (name === 'createdate') return iso(record.createdAt);
  if (name === (objectType === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate')) return iso(record.updatedAt);
  return undefined;
}

function notFound(objectType: FakeObjectType, ids: string[]): BatchError {
  return {
    status: 'error',
    category: 'OBJECT_NOT_FOUND',
    message: `Could not get some ${SINGULAR[objectType]} objects, they may be deleted or not exist. Check that ids are valid.`,
    context: { ids },
  };
}

function batchResponse(
  results: unknown[],
  errors: BatchError[],
  startedAt: number,
  completedAt: number,
): HubSpotResponse {
  const body: Record<string, unknown> = {
    status: 'COMPLETE',
    results,
    startedAt: iso(startedAt),
    completedAt: iso(completedAt),
  };
  if (errors.length === 0) return json(200, body);
  return json(207, { ...body, numErrors: errors.length, errors });
}

/** Returns the inputs, or HubSpot-like wording of why the body is not a valid batch. */
function parseInputs(body: unknown): { id: string; properties?: Record<string, unknown> }[] | string {
  const inputs = (body as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs))
    return 'Invalid input JSON on line 1: the field "inputs" is required and must be an array.';
  if (inputs.length > BATCH_LIMIT)
    return `Too many inputs: ${inputs.length}. The maximum number of inputs per batch is ${BATCH_LIMIT}.`;
  const parsed: { id: string; properties?: Record<string, unknown> }[] = [];
  for (const input of inputs as unknown[]) {
    const candidate = input as { id?: unknown; properties?: unknown } | null;
    if (typeof candidate?.id !== 'string' || candidate.id === '')
      return 'Invalid input JSON: every input needs a string "id".';
    const properties = candidate.properties;
    if (properties !== undefined && (typeof properties !== 'object' || properties === null))
      return 'Invalid input JSON: "properties" must be an object.';
    parsed.push({
      id: candidate.id,
      ...(properties === undefined ? {} : { properties: properties as Record<string, unknown> }),
    });
  }
  return parsed;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function splitList(value: string | undefined): string[] {
  return value === undefined || value === '' ? [] : value.split(',').map((part) => part.trim());
}
