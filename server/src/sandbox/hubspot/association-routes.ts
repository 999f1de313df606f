import type { CustomRoute } from './custom-objects.ts';
import { resolveObjectTypeId } from './custom-objects.ts';
import { errorResponse, iso, json, type HubSpotResponse } from './responses.ts';
import { notifyChange, type HubSpotState } from './state.ts';

/**
 * The v4 associations batch API over default associations: link (the approval object, issue 5;
 * an agent's governed associations, issue 21), read and archive. HubSpot refuses a whole batch
 * naming a record it does not have, with the invalid ids in the error's context.
 */
const OBJECT_NAMES: Record<string, string> = { '0-1': 'CONTACT', '0-2': 'COMPANY', '0-3': 'DEAL' };

function exists(state: HubSpotState, objectTypeId: string, id: string): boolean {
  if (objectTypeId === '0-1') return state.objects.contacts.records.has(id);
  if (objectTypeId === '0-3') return state.objects.deals.records.has(id);
  if (objectTypeId === '0-2') return state.custom.companies.has(id);
  return state.custom.objects.get(objectTypeId)?.records.has(id) ?? false;
}

/** A company the sandbox knows, for tests and demos that link records to one; returns its id. */
export function seedCompany(state: HubSpotState, name: string): string {
  const id = String(state.nextId++);
  state.custom.companies.set(id, name);
  notifyChange(state, { kind: 'custom-objects-changed' });
  return id;
}

/** Removes a default association both ways, as a person unlinking the records in HubSpot does. */
export function unlinkRecords(state: HubSpotState, from: string, fromId: string, to: string, toId: string): void {
  const fromTypeId = resolveObjectTypeId(state, from) ?? from;
  const toTypeId = resolveObjectTypeId(state, to) ?? to;
  state.custom.associations.get(`${fromTypeId}:${fromId}`)?.delete(`${toTypeId}:${toId}`);
  state.custom.associations.get(`${toTypeId}:${toId}`)?.delete(`${fromTypeId}:${fromId}`);
  notifyChange(state, { kind: 'custom-objects-changed' });
}

type Pair = { from: { id?: unknown }; to: unknown };

function resolvePair(state: HubSpotState, fromType: string, toType: string, body: unknown) {
  const from = resolveObjectTypeId(state, fromType);
  const to = resolveObjectTypeId(state, toType);
  if (from === undefined || to === undefined)
    return errorResponse(400, 'VALIDATION_ERROR', `Unknown object type ${from === undefined ? fromType : toType}.`);
  const inputs = (body as { inputs?: unknown })?.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0)
    return errorResponse(400, 'VALIDATION_ERROR', 'inputs must be a non-empty array.');
  if (inputs.length > 100)
    return errorResponse(400, 'VALIDATION_ERROR', 'Batch input must contain at most 100 inputs.');
  return { from, to, inputs: inputs as Pair[] };
}

function invalidIds(state: HubSpotState, checks: [string, string][]): HubSpotResponse | undefined {
  const invalid = checks.filter(([type, id]) => !exists(state, type, id));
  if (invalid.length === 0) return undefined;
  return errorResponse(400, 'VALIDATION_ERROR', 'One or more associations are invalid', {
    INVALID_OBJECT_IDS: invalid.map(([type, id]) => `${OBJECT_NAMES[type] ?? type}=${id} is not valid`),
    objectId: invalid.map(([, id]) => id),
    objectType: invalid.map(([type]) => OBJECT_NAMES[type] ?? type),
  });
}

export function associateDefault(
  state: HubSpotState,
  fromType: string,
  toType: string,
  body: unknown,
): HubSpotResponse {
  const resolved = resolvePair(state, fromType, toType, body);
  if (!('inputs' in resolved)) return resolved;
  const { from, to, inputs } = resolved;
  const pairs = inputs.map((input) => ({
    fromId: String(input.from?.id),
    toId: String((input.to as { id?: unknown } | undefined)?.id),
  }));
  const refused = invalidIds(
    state,
    pairs.flatMap((pair): [string, string][] => [
      [from, pair.fromId],
      [to, pair.toId],
    ]),
  );
  if (refused) return refused;
  const startedAt = state.now();
  for (const { fromId, toId } of pairs) {
    link(state, `${from}:${fromId}`, `${to}:${toId}`);
    link(state, `${to}:${toId}`, `${from}:${fromId}`);
  }
  notifyChange(state, { kind: 'custom-objects-changed' });
  const results = pairs.map(({ fromId, toId }) => ({
    from: { id: fromId },
    to: { id: toId },
    associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 1 },
  }));
  return json(200, { status: 'COMPLETE', results, startedAt: iso(startedAt), completedAt: iso(state.now()) });
}

/** Each input's linked records of the other type; a record with none, or unknown, is an error of a 207. */
function readAssociations(state: HubSpotState, fromType: string, toType: string, body: unknown): HubSpotResponse {
  const resolved = resolvePair(state, fromType, toType, body);
  if (!('inputs' in resolved)) return resolved;
  const { from, to } = resolved;
  const startedAt = state.now();
  const results: unknown[] = [];
  const errors: unknown[] = [];
  for (const input of resolved.inputs as { id?: unknown }[]) {
    const id = String(input.id);
    const linked = [...(state.custom.associations.get(`${from}:${id}`) ?? [])]
      .filter((key) => key.startsWith(`${to}:`))
      .map((key) => key.slice(to.length + 1));
    if (linked.length === 0) {
      errors.push({
        status: 'error',
        category: 'OBJECT_NOT_FOUND',
        message: `No ${OBJECT_NAMES[to] ?? to} is associated with ${OBJECT_NAMES[from] ?? from} ${id}.`,
        context: { fromObjectId: [id] },
      });
      continue;
    }
    results.push({
      from: { id },
      to: linked.map((toObjectId) => ({
        toObjectId: Number(toObjectId),
        associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 1, label: null }],
      })),
    });
  }
  const at = { startedAt: iso(startedAt), completedAt: iso(state.now()) };
  return errors.length === 0
    ? json(200, { status: 'COMPLETE', results, ...at })
    : json(207, { status: 'COMPLETE', results, errors, numErrors: errors.length, ...at });
}

/** Removes every association between each pair; pairs not linked are left as they are. HubSpot answers 204. */
function archiveAssociations(state: HubSpotState, fromType: string, toType: string, body: unknown): HubSpotResponse {
  const resolved = resolvePair(state, fromType, toType, body);
  if (!('inputs' in resolved)) return resolved;
  for (const input of resolved.inputs) {
    const fromId = String(input.from?.id);
    for (const target of Array.isArray(input.to) ? (input.to as { id?: unknown }[]) : [])
      unlinkRecords(state, resolved.from, fromId, resolved.to, String(target.id));
  }
  return { status: 204, headers: {}, body: undefined };
}

function link(state: HubSpotState, from: string, to: string): void {
  const linked = state.custom.associations.get(from) ?? new Set<string>();
  linked.add(to);
  state.custom.associations.set(from, linked);
}

const route = (action: string, handle: typeof associateDefault): CustomRoute => ({
  method: 'POST',
  template: `/crm/v4/associations/{from}/{to}/batch/${action}`,
  pattern: new RegExp(`^/crm/v4/associations/([^/]+)/([^/]+)/batch/${action.replace('/', '\\/')}$`),
  handle: (s, r, [from = '', to = '']) => handle(s, from, to, r.body),
});

export const ASSOCIATION_ROUTES: CustomRoute[] = [
  route('associate/default', associateDefault),
  route('read', readAssociations),
  route('archive', archiveAssociations),
];
