import {
  canSee,
  createRecord,
  insertRecord,
  issueSession,
  publishCreate,
  updateRecord,
  verifyJwtAssertion,
  type SalesforceSandboxState,
  type SandboxClient,
  type SandboxField,
  type SandboxObject,
} from './state.ts';
import { parseJson } from '../../../../shared/json-text.ts';
import { bulkIngestRoute } from './bulk-routes.ts';
import type { SfRequest, SfResponse } from './wire.ts';
import { planUpdate, storedValue } from './record-updates.ts';
import { planCreate } from './record-creates.ts';

export type { SfRequest, SfResponse } from './wire.ts';

const MAX_RETRIEVE_IDS = 2_000;
const MAX_DML_RECORDS = 200;
/** Subrequests one composite request may carry. */
const MAX_COMPOSITE_SUBREQUESTS = 25;

const ROLLED_BACK = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [],
};

const errors = (status: number, errorCode: string, message: string): SfResponse => ({
  status,
  body: [{ errorCode, message }],
});

/** The OAuth token endpoint: client credentials and the JWT bearer flow, as an External Client App offers them. */
export function tokenRoute(state: SalesforceSandboxState, request: SfRequest, baseUrl: string): SfResponse {
  const form = new URLSearchParams(request.rawBody);
  const grant = form.get('grant_type');
  let client: SandboxClient | undefined;
  if (grant === 'client_credentials') {
    client = state.clients.get(form.get('client_id') ?? '');
    if (!client || client.clientSecret !== form.get('client_secret'))
      return { status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } };
    if (client.revoked)
      return { status: 400, body: { error: 'invalid_grant', error_description: 'expired access/refresh token' } };
  } else if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    const verdict = verifyJwtAssertion(state, form.get('assertion') ?? '');
    if (!verdict.ok) return { status: 400, body: { error: verdict.error, error_description: verdict.description } };
    client = verdict.client;
  } else {
    return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' } };
  }
  const accessToken = issueSession(state, client);
  return {
    status: 200,
    body: {
      access_token: accessToken,
      instance_url: baseUrl,
      id: `${baseUrl}/id/${state.orgId}/${client.runAsUserId}`,
      token_type: 'Bearer',
      issued_at: String(state.now().getTime()),
      scope: 'api',
    },
  };
}

/** Everything under /services/data/vXX.X: authenticated, counted against the daily allocation, with its usage in a header. */
export function dataRoute(state: SalesforceSandboxState, request: SfRequest): SfResponse {
  const session = state.sessions.get((request.headers['authorization'] ?? '').replace(/^(Bearer|OAuth) /, ''));
  if (!session || session.expiresAt <= state.now().getTime())
    return errors(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
  const match = /^\/services\/data\/v(\d+\.\d)(\/.*)?$/.exec(request.path);
  if (!match) return errors(404, 'NOT_FOUND', 'The requested resource does not exist');
  if (state.api.used >= state.api.limit)
    return withUsage(state, errors(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'));
  state.api.used += 1;
  const version = match[1] ?? '';
  const rest = match[2] ?? '/';
  const callOptions = request.headers['sforce-call-options'] ?? null;
  state.calls.push({ method: request.method, path: rest, callOptions });
  const client = /client=([^,\s]+)/.exec(callOptions ?? '')?.[1];
  const origin = `com/salesforce/api/rest/${version}${client ? `;client=${client}` : ''}`;
  return withUsage(state, route(state, request, rest, { userId: session.userId, origin }));
}

function withUsage(state: SalesforceSandboxState, response: SfResponse): SfResponse {
  return {
    ...response,
    headers: { ...response.headers, 'sforce-limit-info': `api-usage=${state.api.used}/${state.api.limit}` },
  };
}

function route(
  state: SalesforceSandboxState,
  request: SfRequest,
  rest: string,
  by: { userId: string; origin: string },
): SfResponse {
  const bulk = bulkIngestRoute(state, request, rest, by);
  if (bulk) return bulk;
  const body = parseBody(request.rawBody);
  if (body === INVALID) return errors(400, 'JSON_PARSER_ERROR', 'Unexpected character in the request body');
  if (request.method === 'GET' && rest === '/limits')
    return {
      status: 200,
      body: { DailyApiRequests: { Max: state.api.limit, Remaining: state.api.limit - state.api.used } },
    };
  let m = /^\/sobjects\/([A-Za-z_]+)\/describe\/?$/.exec(rest);
  if (request.method === 'GET' && m) return describe(state, m[1] ?? '');
  m = /^\/composite\/sobjects\/([A-Za-z_]+)\/?$/.exec(rest);
  if (request.method === 'POST' && m) return retrieve(state, m[1] ?? '', body);
  if (request.method === 'POST' && /^\/composite\/sobjects\/?$/.test(rest)) return createMany(state, body, by);
  if (request.method === 'POST' && /^\/composite\/?$/.test(rest)) return composite(state, body, by);
  if (request.method === 'PATCH' && /^\/composite\/sobjects\/?$/.test(rest)) return updateMany(state, body, by);
  m = /^\/composite\/sobjects\/([A-Za-z_]+)\/([A-Za-z_]+)\/?$/.exec(rest);
  if (request.method === 'PATCH' && m) return upsertMany(state, m[1] ?? '', m[2] ?? '', body, by);
  if (request.method === 'GET' && rest === '/query') return query(state, request.query.get('q') ?? '');
  return errors(404, 'NOT_FOUND', 'The requested resource does not exist');
}

const INVALID = Symbol('invalid');
function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return parseJson(raw);
  } catch {
    return INVALID;
  }
}

function findObject(state: SalesforceSandboxState, type: string): SandboxObject | undefined {
  return state.objects.get(type);
}

function describe(state: SalesforceSandboxState, type: string): SfResponse {
  const target = findObject(state, type);
  if (!target) return errors(404, 'NOT_FOUND', `The requested resource does not exist`);
  return {
    status: 200,
    body: {
      name: target.name,
      keyPrefix: target.keyPrefix,
      fields: [...target.fields.values()]
        .filter((field) => canSee(state, type, field))
        .map((field) => ({
          name: field.name,
          label: field.label,
          type: field.type,
          updateable: field.updateable,
          custom: field.custom,
          length: field.length ?? 255,
          picklistValues: field.picklistValues ?? [],
        })),
    },
  };
}

/** Salesforce's JSON for a stored value: booleans and numbers typed, the rest strings. */
function jsonValue(field: SandboxField, value: string | null | undefined): unknown {
  if (value === null || value === undefined) return field.type === 'boolean' ? false : null;
  if (field.type === 'boolean') return value === 'true';
  if (field.type === 'currency') return Number(value);
  return value;
}

function retrieve(state: SalesforceSandboxState, type: string, body: unknown): SfResponse {
  const target = findObject(state, type);
  if (!target) return errors(404, 'NOT_FOUND', 'The requested resource does not exist');
  const { ids, fields } = (body ?? {}) as { ids?: unknown; fields?: unknown };
  if (!Array.isArray(ids) || !Array.isArray(fields)) return errors(400, 'INVALID_FIELD', 'ids and fields are required');
  if (ids.length > MAX_RETRIEVE_IDS)
    return errors(400, 'EXCEEDED_ID_LIMIT', `Maximum number of ids is ${MAX_RETRIEVE_IDS}`);
  for (const name of fields) {
    const field = target.fields.get(String(name));
    if (!field || !canSee(state, type, field))
      return errors(400, 'INVALID_FIELD', `No such column '${String(name)}' on entity '${type}'.`);
  }
  return {
    status: 200,
    body: ids.map((id) => {
      const record = target.records.get(String(id));
      if (!record) return null;
      const out: Record<string, unknown> = {
        attributes: { type, url: `/services/data/v67.0/sobjects/${type}/${id}` },
        Id: id,
      };
      for (const name of fields) {
        const field = target.fields.get(String(name)) as SandboxField;
        out[field.name] = field.name === 'Id' ? id : jsonValue(field, record[field.name]);
      }
      return out;
    }),
  };
}

/** An sObject Collections call's records (at most MAX_DML_RECORDS) and `allOrNone`, or Salesforce's refusal. */
function collectionsCall(body: unknown): { records: unknown[]; allOrNone: unknown } | SfResponse {
  const { records, allOrNone } = (body ?? {}) as { records?: unknown; allOrNone?: unknown };
  if (!Array.isArray(records)) return errors(400, 'JSON_PARSER_ERROR', 'records is required');
  if (records.length > MAX_DML_RECORDS)
    return errors(
      400,
      'EXCEEDED_ID_LIMIT',
      `record limit reached. cannot submit more than ${MAX_DML_RECORDS} records into this call`,
    );
  return { records, allOrNone };
}

function updateMany(state: SalesforceSandboxState, body: unknown, by: { userId: string; origin: string }): SfResponse {
  const call = collectionsCall(body);
  if ('status' in call) return call;
  const { records, allOrNone } = call;
  const planned = records.map((input) => planUpdate(state, input as Record<string, unknown>));
  const failed = planned.some((plan) => !plan.ok);
  return {
    status: 200,
    body: planned.map((plan) => {
      if (!plan.ok) return { id: plan.id, success: false, errors: [plan.error] };
      if (allOrNone === true && failed) return { id: plan.id, success: false, errors: [ROLLED_BACK] };
      updateRecord(state, plan.type, plan.id, plan.values, by);
      return { id: plan.id, success: true, errors: [] };
    }),
  };
}

/** sObject Collections create: each record checked, then made unless a refusal rolls back an `allOrNone` call. */
function createMany(state: SalesforceSandboxState, body: unknown, by: { userId: string; origin: string }): SfResponse {
  const call = collectionsCall(body);
  if ('status' in call) return call;
  const { records, allOrNone } = call;
  const planned = records.map((input) => planCreate(state, input as Record<string, unknown>));
  const failed = planned.some((plan) => !plan.ok);
  return {
    status: 200,
    body: planned.map((plan) => {
      if (!plan.ok) return { id: null, success: false, errors: [plan.error] };
      if (allOrNone === true && failed) return { id: null, success: false, errors: [ROLLED_BACK] };
      return { id: createRecord(state, plan.type, plan.values, by), success: true, errors: [] };
    }),
  };
}

type Subresponse = { body: unknown; httpHeaders: Record<string, string>; httpStatusCode: number; referenceId: string };

/**
 * The composite resource, for the subrequests the adapter sends: sObject creates
 * (`POST /services/data/vXX.X/sobjects/{type}`), run in order, each body's `@{ref.id}` replaced by
 * the id an earlier subrequest made. With `allOrNone` one refusal rolls back every record made
 * (`PROCESSING_HALTED` for the others); without it, a subrequest naming a failed one is not run.
 * One API call, whatever it carries; its records are announced once it commits.
 */
function composite(state: SalesforceSandboxState, body: unknown, by: { userId: string; origin: string }): SfResponse {
  const { allOrNone, compositeRequest } = (body ?? {}) as { allOrNone?: unknown; compositeRequest?: unknown };
  if (!Array.isArray(compositeRequest) || compositeRequest.length === 0)
    return errors(400, 'JSON_PARSER_ERROR', 'compositeRequest is required');
  if (compositeRequest.length > MAX_COMPOSITE_SUBREQUESTS)
    return errors(
      400,
      'LIMIT_EXCEEDED',
      `A composite request may have at most ${MAX_COMPOSITE_SUBREQUESTS} subrequests`,
    );
  const ids = new Map<string, string>();
  const made: { type: string; id: string; values: Record<string, string | null> }[] = [];
  const responses: Subresponse[] = [];
  let failed = false;
  const refused = (referenceId: string, errorCode: string, message: string, fields: string[] = []): Subresponse => ({
    body: [{ errorCode, message, fields }],
    httpHeaders: {},
    httpStatusCode: errorCode === 'NOT_FOUND' ? 404 : 400,
    referenceId,
  });
  for (const sub of compositeRequest as { method?: unknown; url?: unknown; referenceId?: unknown; body?: unknown }[]) {
    const referenceId = String(sub.referenceId ?? '');
    if (failed && allOrNone === true) {
      responses.push(
        refused(
          referenceId,
          'PROCESSING_HALTED',
          'The transaction was rolled back since another operation in the same transaction failed.',
        ),
      );
      continue;
    }
    const type = /^\/services\/data\/v\d+\.\d\/sobjects\/([A-Za-z_]+)\/?$/.exec(String(sub.url ?? ''))?.[1];
    if (sub.method !== 'POST' || !type) {
      failed = true;
      responses.push(refused(referenceId, 'NOT_FOUND', 'The requested resource does not exist'));
      continue;
    }
    const input = { ...((sub.body ?? {}) as Record<string, unknown>) };
    let unresolved: string | undefined;
    for (const [name, value] of Object.entries(input)) {
      const ref = typeof value === 'string' ? /^@\{(\w+)\.id\}$/.exec(value)?.[1] : undefined;
      if (ref === undefined) continue;
      const id = ids.get(ref);
      if (id === undefined) {
        unresolved = ref;
        break;
      }
      input[name] = id;
    }
    if (unresolved !== undefined) {
      failed = true;
      responses.push(
        refused(
          referenceId,
          'PROCESSING_HALTED',
          `Invalid reference specified. No value for ${unresolved}.id found in ${unresolved}. Provided referenceId ${unresolved} was not found.`,
        ),
      );
      continue;
    }
    const plan = planCreate(state, { ...input, attributes: { type } });
    if (!plan.ok) {
      failed = true;
      responses.push(refused(referenceId, plan.error.statusCode, plan.error.message, plan.error.fields));
      continue;
    }
    const id = insertRecord(state, plan.type, plan.values);
    made.push({ type: plan.type, id, values: plan.values });
    ids.set(referenceId, id);
    responses.push({
      body: { id, success: true, errors: [] },
      httpHeaders: { Location: `/services/data/v67.0/sobjects/${plan.type}/${id}` },
      httpStatusCode: 201,
      referenceId,
    });
  }
  if (failed && allOrNone === true) {
    for (const record of made) state.objects.get(record.type)?.records.delete(record.id);
    return {
      status: 200,
      body: {
        compositeResponse: responses.map((response) =>
          response.httpStatusCode === 201
            ? refused(
                response.referenceId,
                'PROCESSING_HALTED',
                'The transaction was rolled back since another operation in the same transaction failed.',
              )
            : response,
        ),
      },
    };
  }
  for (const record of made) publishCreate(state, record.type, record.id, record.values, by);
  return { status: 200, body: { compositeResponse: responses } };
}

/** Upsert by an external-id field: the record holding the key is updated, else one is created. */
function upsertMany(
  state: SalesforceSandboxState,
  type: string,
  keyField: string,
  body: unknown,
  by: { userId: string; origin: string },
): SfResponse {
  const target = findObject(state, type);
  if (!target) return errors(404, 'NOT_FOUND', 'The requested resource does not exist');
  const { records } = (body ?? {}) as { records?: Record<string, unknown>[] };
  if (!Array.isArray(records)) return errors(400, 'JSON_PARSER_ERROR', 'records is required');
  if (records.length > MAX_DML_RECORDS)
    return errors(
      400,
      'EXCEEDED_ID_LIMIT',
      `record limit reached. cannot submit more than ${MAX_DML_RECORDS} records into this call`,
    );
  return {
    status: 200,
    body: records.map((input) => {
      const values: Record<string, string | null> = {};
      for (const [name, value] of Object.entries(input)) {
        if (name === 'attributes') continue;
        const field = target.fields.get(name);
        if (!field || !canSee(state, type, field))
          return {
            id: null,
            success: false,
            created: false,
            errors: [
              {
                statusCode: 'INVALID_FIELD',
                message: `No such column '${name}' on sobject of type ${type}`,
                fields: [name],
              },
            ],
          };
        values[name] = storedValue(field, value);
      }
      const key = values[keyField];
      const existing = [...target.records].find(([, record]) => key != null && record[keyField] === key)?.[0];
      if (existing) {
        updateRecord(state, type, existing, values, by);
        return { id: existing, success: true, created: false, errors: [] };
      }
      return { id: createRecord(state, type, values, by), success: true, created: true, errors: [] };
    }),
  };
}

/**
 * The SOQL the adapter sends, and no more: field history of records,
 * `SELECT … FROM ContactHistory WHERE ContactId IN ('…') ORDER BY CreatedDate DESC`, and what
 * kind of user each commit user is, `SELECT Id, UserType, Profile.Name FROM User WHERE Id IN ('…')`.
 */
function query(state: SalesforceSandboxState, soql: string): SfResponse {
  const users = /^SELECT\s+Id,\s*UserType,\s*Profile\.Name\s+FROM\s+User\s+WHERE\s+Id\s+IN\s*\(([^)]*)\)$/i.exec(
    soql.trim(),
  );
  if (users) {
    const rows = [...(users[1] ?? '').matchAll(/'([^']*)'/g)]
      .map((x) => state.users.get(x[1] ?? ''))
      .filter((user) => user !== undefined)
      .map((user) => ({
        attributes: { type: 'User' },
        Id: user.id,
        UserType: user.userType,
        Profile: user.profile === null ? null : { attributes: { type: 'Profile' }, Name: user.profile },
      }));
    return { status: 200, body: { totalSize: rows.length, done: true, records: rows } };
  }
  const m = /^SELECT\s+.+\s+FROM\s+(\w+?)(Field)?History\s+WHERE\s+(\w+)\s+IN\s*\(([^)]*)\)/i.exec(soql.trim());
  if (!m) return errors(400, 'MALFORMED_QUERY', 'The sandbox answers field history and user queries only.');
  const type = m[1] ?? '';
  const target = findObject(state, type);
  if (!target) return errors(400, 'INVALID_TYPE', `sObject type '${type}History' is not supported.`);
  const ids = new Set([...(m[4] ?? '').matchAll(/'([^']*)'/g)].map((x) => x[1]));
  const rows = target.history
    .filter((row) => ids.has(row.recordId))
    .reverse()
    .map((row) => ({
      attributes: { type: `${type}History` },
      [`${type}Id`]: row.recordId,
      Field: row.field,
      OldValue: row.oldValue,
      NewValue: row.newValue,
      CreatedById: row.userId,
      CreatedDate: row.at.toISOString().replace('Z', '+0000'),
    }));
  return { status: 200, body: { totalSize: rows.length, done: true, records: rows } };
}
