import { errorResponse, iso, json, type HubSpotRequest, type HubSpotResponse } from './responses.ts';
import type { FakeObjectType, HubSpotState } from './state.ts';

/** A note or a task as the fake keeps it: its properties and the records it is associated with. */
export interface FakeEngagement {
  id: string;
  kind: 'notes' | 'tasks';
  properties: Record<string, string>;
  associations: { objectType: FakeObjectType; recordId: string; associationTypeId: number }[];
  createdAt: number;
}

/** HubSpot-defined association type ids from an engagement to a record. */
const ASSOCIATION_TARGETS: Record<'notes' | 'tasks', Record<number, FakeObjectType>> = {
  notes: { 202: 'contacts', 214: 'deals' },
  tasks: { 204: 'contacts', 216: 'deals' },
};
const REQUIRED: Record<'notes' | 'tasks', readonly string[]> = {
  notes: ['hs_timestamp'],
  tasks: ['hs_timestamp', 'hs_task_subject'],
};

// Kept beside the state rather than in it: only the drafts' routes and their tests need it.
const engagements = new WeakMap<HubSpotState, FakeEngagement[]>();

/** Every note and task created in this fake, oldest first. */
export function engagementsOf(state: HubSpotState): FakeEngagement[] {
  let list = engagements.get(state);
  if (list === undefined) {
    list = [];
    engagements.set(state, list);
  }
  return list;
}

/** The notes and tasks on one record's timeline. */
export function timelineOf(state: HubSpotState, objectType: FakeObjectType, recordId: string): FakeEngagement[] {
  return engagementsOf(state).filter((engagement) =>
    engagement.associations.some((to) => to.objectType === objectType && to.recordId === recordId),
  );
}

/** `POST /crm/v3/objects/notes` and `/tasks`, with HubSpot's create shape; undefined for any other request. */
export function engagementRoute(state: HubSpotState, request: HubSpotRequest): HubSpotResponse | undefined {
  const found = /^\/crm\/v3\/objects\/(notes|tasks)\/?$/.exec(request.path);
  if (request.method.toUpperCase() !== 'POST' || found === null) return undefined;
  const kind = found[1] as 'notes' | 'tasks';
  const body = request.body as { properties?: unknown; associations?: unknown } | null | undefined;
  const properties = body?.properties;
  if (
    typeof properties !== 'object' ||
    properties === null ||
    Object.values(properties).some((value) => typeof value !== 'string')
  ) {
    return errorResponse(400, 'VALIDATION_ERROR', 'Invalid input JSON: "properties" must be an object of strings.');
  }
  const values = properties as Record<string, string>;
  const missing = REQUIRED[kind].filter((name) => !values[name]);
  if (missing.length > 0)
    return errorResponse(
      400,
      'VALIDATION_ERROR',
      `Property values were not valid: ${missing.map((name) => `${name} is required`).join(', ')}`,
    );

  const associations: FakeEngagement['associations'] = [];
  for (const association of Array.isArray(body?.associations) ? (body.associations as unknown[]) : []) {
    const input = association as {
      to?: { id?: unknown };
      types?: { associationCategory?: unknown; associationTypeId?: unknown }[];
    } | null;
    const recordId = typeof input?.to?.id === 'string' ? input.to.id : '';
    for (const type of input?.types ?? []) {
      const typeId = Number(type.associationTypeId);
      const objectType = type.associationCategory === 'HUBSPOT_DEFINED' ? ASSOCIATION_TARGETS[kind][typeId] : undefined;
      if (objectType === undefined)
        return errorResponse(
          400,
          'VALIDATION_ERROR',
          `${String(type.associationCategory)} association type ${typeId} is not valid for ${kind}.`,
        );
      if (!state.objects[objectType].records.has(recordId))
        return errorResponse(400, 'VALIDATION_ERROR', `One or more association target ids are invalid: ${recordId}`);
      associations.push({ objectType, recordId, associationTypeId: typeId });
    }
  }
  const createdAt = state.now();
  const engagement: FakeEngagement = {
    id: String(state.nextId++),
    kind,
    properties: { ...values },
    associations,
    createdAt,
  };
  engagementsOf(state).push(engagement);
  return json(201, {
    id: engagement.id,
    properties: { ...values, hs_object_id: engagement.id },
    createdAt: iso(createdAt),
    updatedAt: iso(createdAt),
    archived: false,
  });
}
