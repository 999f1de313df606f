import { z } from 'zod';
import type { ExtraRoutes } from './hubspot/http-server.ts';
import { errorResponse, json, type HubSpotRequest, type HubSpotResponse } from './hubspot/responses.ts';
import { editAsPerson, FAKE_OBJECT_TYPES, propertyHistory, recordValues, type HubSpotState } from './hubspot/state.ts';
import { checkValue, validationMessage } from './hubspot/validation.ts';

/** Everything the sandbox adds to HubSpot's API lives under this prefix, so nobody mistakes it for HubSpot's. */
export const CONTROL_PREFIX = '/_sandbox';

/** The user id a person's edit is recorded under when none is given. */
export const DEFAULT_PERSON_USER_ID = 9001;

export const personEditSchema = z.object({
  objectType: z.enum(FAKE_OBJECT_TYPES),
  recordId: z.string().min(1),
  property: z.string().min(1),
  value: z.string(),
  userId: z.number().int().positive().default(DEFAULT_PERSON_USER_ID),
});
export type PersonEdit = z.input<typeof personEditSchema>;

const failureSchema = z.object({
  count: z.number().int().positive().default(1),
  status: z.union([
    z.literal(429),
    z.literal(500),
    z.literal(502),
    z.literal(503),
    z.literal(504),
    z.literal('connection-reset'),
  ]),
  retryAfterSeconds: z.number().int().nonnegative().optional(),
  /** A route template such as `POST /crm/v3/objects/{type}/batch/update`; unset fails any call. */
  route: z.string().optional(),
});

export const faultSettingsSchema = z.object({
  latencyMs: z.number().int().nonnegative().optional(),
  /** Calls allowed per rolling 10 s (HubSpot: 100 or 190); null lifts the limit. */
  rateLimitPer10s: z.number().int().positive().nullable().optional(),
  failNext: z.array(failureSchema).optional(),
  /** Batch updates touching these records answer 207 with an error for them. */
  rejectUpdates: z
    .array(
      z.object({ objectType: z.enum(FAKE_OBJECT_TYPES), recordId: z.string().min(1), message: z.string().optional() }),
    )
    .optional(),
});
export type FaultSettings = z.input<typeof faultSettingsSchema>;

/**
 * The sandbox's own routes: a person's edit, fault switches, and state inspection for tests.
 * Answers use HubSpot's error shape so one client reads both.
 */
export function sandboxControlRoutes(input: { state: HubSpotState; portalId: string }): ExtraRoutes {
  const { state } = input;
  return (request) => {
    if (request.path !== CONTROL_PREFIX && !request.path.startsWith(`${CONTROL_PREFIX}/`)) return undefined;
    const route = `${request.method.toUpperCase()} ${request.path.slice(CONTROL_PREFIX.length)}`;
    if (route === 'GET /info') return info(state, input.portalId);
    if (route === 'POST /edit') return edit(state, request);
    if (route === 'PUT /faults') return setFaults(state, request);
    if (route === 'DELETE /faults') {
      state.faults.reset();
      return json(200, { reset: true });
    }
    if (route === 'GET /calls') return calls(state);
    if (route === 'DELETE /calls') {
      state.calls.clear();
      return json(200, { cleared: true });
    }
    const record = /^GET \/records\/([^/]+)\/([^/]+)$/.exec(route);
    if (record !== null)
      return inspectRecord(state, decodeURIComponent(record[1] ?? ''), decodeURIComponent(record[2] ?? ''));
    return errorResponse(
      404,
      'OBJECT_NOT_FOUND',
      `The sandbox has no route ${request.method.toUpperCase()} ${request.path}.`,
    );
  };
}

function info(state: HubSpotState, portalId: string): HubSpotResponse {
  return json(200, {
    portalId,
    appId: state.appId,
    records: { contacts: state.objects.contacts.records.size, deals: state.objects.deals.records.size },
  });
}

function edit(state: HubSpotState, request: HubSpotRequest): HubSpotResponse {
  const parsed = personEditSchema.safeParse(request.body);
  if (!parsed.success) return errorResponse(400, 'VALIDATION_ERROR', describe(parsed.error));
  const { objectType, recordId, property, value, userId } = parsed.data;
  const store = state.objects[objectType];
  if (!store.records.has(recordId))
    return errorResponse(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.', {
      id: [recordId],
    });
  const definition = store.properties.get(property);
  if (definition === undefined)
    return errorResponse(
      400,
      'VALIDATION_ERROR',
      validationMessage([
        {
          isValid: false,
          message: `Property "${property}" does not exist`,
          error: 'PROPERTY_DOESNT_EXIST',
          name: property,
        },
      ]),
    );
  const check = checkValue(definition, value, state.ownerIds);
  if (!check.ok) return errorResponse(400, 'VALIDATION_ERROR', validationMessage([check.result]));
  editAsPerson(state, { objectType, recordId, properties: { [property]: check.value }, userId });
  return json(200, {
    objectType,
    recordId,
    property,
    value: check.value,
    history: propertyHistory(state, objectType, recordId, property).slice(0, 5),
  });
}

function setFaults(state: HubSpotState, request: HubSpotRequest): HubSpotResponse {
  const parsed = faultSettingsSchema.safeParse(request.body);
  if (!parsed.success) return errorResponse(400, 'VALIDATION_ERROR', describe(parsed.error));
  const settings = parsed.data;
  if (settings.latencyMs !== undefined) state.faults.latencyMs = settings.latencyMs;
  if (settings.rateLimitPer10s === null) state.faults.clearRateLimit();
  else if (settings.rateLimitPer10s !== undefined)
    state.faults.setRateLimit({ maxCalls: settings.rateLimitPer10s, intervalMs: 10_000 });
  for (const failure of settings.failNext ?? []) {
    const scripted =
      failure.status === 429
        ? {
            status: 429 as const,
            ...(failure.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: failure.retryAfterSeconds }),
          }
        : { status: failure.status };
    state.faults.failNext(failure.count, scripted, failure.route);
  }
  for (const rejection of settings.rejectUpdates ?? [])
    state.faults.rejectUpdatesOf(rejection.objectType, rejection.recordId, rejection.message);
  return json(200, { applied: settings });
}

function calls(state: HubSpotState): HubSpotResponse {
  const byRoute: Record<string, Record<string, number>> = {};
  for (const entry of state.calls.entries) {
    byRoute[entry.route] ??= {};
    const statuses = byRoute[entry.route]!;
    statuses[String(entry.status)] = (statuses[String(entry.status)] ?? 0) + 1;
  }
  return json(200, { total: state.calls.entries.length, byRoute });
}

function inspectRecord(state: HubSpotState, objectType: string, recordId: string): HubSpotResponse {
  const type = FAKE_OBJECT_TYPES.find((candidate) => candidate === objectType);
  if (type === undefined)
    return errorResponse(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${objectType}`);
  const values = recordValues(state, type, recordId);
  if (values === undefined)
    return errorResponse(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.', {
      id: [recordId],
    });
  const history = Object.fromEntries(
    Object.keys(values).map((name) => [name, propertyHistory(state, type, recordId, name)]),
  );
  return json(200, { objectType: type, id: recordId, values, history });
}

function describe(error: z.ZodError): string {
  return `Invalid input: ${error.issues.map((issue) => `${issue.path.join('.') || 'body'} ${issue.message}`).join('; ')}`;
}
