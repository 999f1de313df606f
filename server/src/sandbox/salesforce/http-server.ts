import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { identityRoute } from './identity-routes.ts';
import { metadataRoute } from './metadata-routes.ts';
import { dataRoute, tokenRoute, type SfRequest, type SfResponse } from './rest-routes.ts';
import {
  AGENTFORCE_USER_ID,
  AUTOMATED_PROCESS_USER_ID,
  createRecord,
  requireObject,
  signInUser,
  updateRecord,
  type SalesforceSandboxState,
} from './state.ts';
import { parseJson } from '../../../../shared/json-text.ts';

/** What a person's edit in Lightning looks like in a change event (a heuristic Salesforce's own examples show). */
export const UI_ORIGIN = 'com/salesforce/api/soap/67.0;client=SfdcInternalAPI/';
const RUNS_INSIDE_THE_ORG = new Set([AGENTFORCE_USER_ID, AUTOMATED_PROCESS_USER_ID]);

export interface SalesforceSandboxServer {
  /** Starts listening on 127.0.0.1; port 0 picks a free one. Resolves to the base URL (login and instance URL alike). */
  listen(port?: number): Promise<string>;
  close(): Promise<void>;
}

/** A response as it goes on the wire: SOAP as XML, Bulk results as CSV, identity refusals as text, the rest as JSON. */
function serialized(response: SfResponse): {
  status: number;
  headers: Record<string, string> | undefined;
  contentType: string;
  text: string | undefined;
} {
  const { status, headers } = response;
  if (response.xml !== undefined) return { status, headers, contentType: 'text/xml;charset=UTF-8', text: response.xml };
  if (response.text !== undefined)
    return { status, headers, contentType: 'text/plain;charset=UTF-8', text: response.text };
  if (response.csv !== undefined) return { status, headers, contentType: 'text/csv;charset=UTF-8', text: response.csv };
  const text = response.body === undefined ? undefined : JSON.stringify(response.body);
  return { status, headers, contentType: 'application/json;charset=UTF-8', text };
}

/** The local Salesforce: its REST subset over real HTTP, and `/_sandbox/...` control routes. Never in a production path. */
export function createSalesforceSandboxServer(state: SalesforceSandboxState): SalesforceSandboxServer {
  let baseUrl = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', baseUrl || 'http://127.0.0.1');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
      const request: SfRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
      };
      // Latency is how long Salesforce takes to answer, its own work included (as the local HubSpot's):
      // the work is done on arrival and the answer sent once the latency has passed since.
      const answer = async () => {
        const answerAt = performance.now() + state.faults.latencyMs;
        const { status, headers: extra, contentType, text } = serialized(respond(state, request, baseUrl));
        // A timer may fire up to a millisecond early on the monotonic clock, so wait again until it has passed.
        for (let wait = answerAt - performance.now(); wait > 0; wait = answerAt - performance.now())
          await new Promise((resolve) => setTimeout(resolve, wait));
        res.writeHead(status, { 'content-type': contentType, ...extra });
        res.end(text);
      };
      const held = state.faults.hold?.(request);
      if (held) void held.then(answer, answer);
      else void answer();
    });
  });
  return {
    listen(port = 0) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
          resolve(baseUrl);
        });
      });
    },
    close() {
      return new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}

function respond(state: SalesforceSandboxState, request: SfRequest, baseUrl: string): SfResponse {
  try {
    if (request.method === 'POST' && request.path === '/services/oauth2/token')
      return tokenRoute(state, request, baseUrl);
    if (request.path === '/services/oauth2/userinfo' || request.path === '/services/oauth2/revoke')
      return identityRoute(state, request, baseUrl);
    if (request.path.startsWith('/services/data/')) return dataRoute(state, request);
    if (request.method === 'POST' && request.path.startsWith('/services/Soap/m/')) return metadataRoute(state, request);
    if (request.path.startsWith('/_sandbox/')) return controlRoute(state, request);
    return { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
  } catch (error) {
    return {
      status: 400,
      body: [{ errorCode: 'SANDBOX_ERROR', message: error instanceof Error ? error.message : String(error) }],
    };
  }
}

/**
 * `POST /_sandbox/records {object, values}` creates a record; `POST /_sandbox/edit {object, id, values, userId?}`
 * is a person's edit in Lightning (the admin's unless `userId` names another), or with `userId` the
 * Agentforce agent user's (`AGENTFORCE_USER_ID`) or the automated process's, an edit made inside the org;
 * `POST /_sandbox/sessions {userId, clientId?}` signs a person in to an app (the first unless named) and
 * answers their `accessToken`, as Salesforce hands a Canvas app's signed request one; `PUT /_sandbox/faults
 * {latencyMs?, apiUsed?, apiLimit?, expireSessions?, revokeClient?, rejectRecords?: [{id, statusCode, message}],
 * bulkProcessLimit?, identityDown?}`; `GET /_sandbox/records/:object`
 * (every record's id and values); `GET /_sandbox/records/:object/:id` (values and history); `GET|DELETE /_sandbox/calls`.
 */
function controlRoute(state: SalesforceSandboxState, request: SfRequest): SfResponse {
  const body = (request.rawBody === '' ? {} : parseJson(request.rawBody)) as Record<string, unknown>;
  const admin = [...state.users.keys()][0] ?? '';
  if (request.method === 'POST' && request.path === '/_sandbox/records') {
    const id = createRecord(state, String(body['object']), body['values'] as Record<string, string | null>, {
      userId: admin,
      origin: UI_ORIGIN,
    });
    return { status: 201, body: { id } };
  }
  if (request.method === 'POST' && request.path === '/_sandbox/edit') {
    const userId = typeof body['userId'] === 'string' ? body['userId'] : admin;
    const changed = updateRecord(
      state,
      String(body['object']),
      String(body['id']),
      body['values'] as Record<string, string | null>,
      // An Agentforce agent's action and a flow run inside the org, not through Lightning's pages: no origin.
      { userId, origin: RUNS_INSIDE_THE_ORG.has(userId) ? '' : UI_ORIGIN },
    );
    return { status: 200, body: { changed } };
  }
  if (request.method === 'POST' && request.path === '/_sandbox/sessions') {
    const userId = body['userId'];
    if (typeof userId !== 'string' || !/^005[a-zA-Z0-9]{15}$/.test(userId))
      return { status: 400, body: { message: 'userId must be an 18-character user id (005…)' } };
    const clientId = typeof body['clientId'] === 'string' ? body['clientId'] : ([...state.clients.keys()][0] ?? '');
    return { status: 201, body: { accessToken: signInUser(state, { id: userId, clientId }) } };
  }
  if (request.method === 'PUT' && request.path === '/_sandbox/faults') {
    if (typeof body['latencyMs'] === 'number') state.faults.latencyMs = body['latencyMs'];
    if (typeof body['identityDown'] === 'boolean') state.faults.identityDown = body['identityDown'];
    if ('bulkProcessLimit' in body)
      state.faults.bulkProcessLimit = typeof body['bulkProcessLimit'] === 'number' ? body['bulkProcessLimit'] : null;
    if (typeof body['apiUsed'] === 'number') state.api.used = body['apiUsed'];
    if (typeof body['apiLimit'] === 'number') state.api.limit = body['apiLimit'];
    if (body['expireSessions'] === true) for (const session of state.sessions.values()) session.expiresAt = 0;
    const revoked = state.clients.get(String(body['revokeClient'] ?? ''));
    if (revoked) {
      revoked.revoked = true;
      for (const [token, session] of state.sessions)
        if (session.clientId === revoked.clientId) state.sessions.delete(token);
    }
    for (const refusal of (body['rejectRecords'] ?? []) as { id: string; statusCode: string; message: string }[])
      state.faults.rejectRecords.set(refusal.id, { statusCode: refusal.statusCode, message: refusal.message });
    return { status: 200, body: { api: state.api } };
  }
  const all = /^\/_sandbox\/records\/(\w+)$/.exec(request.path);
  if (request.method === 'GET' && all)
    return {
      status: 200,
      body: { records: [...requireObject(state, all[1] ?? '').records].map(([id, values]) => ({ id, values })) },
    };
  const m = /^\/_sandbox\/records\/(\w+)\/(\w+)$/.exec(request.path);
  if (request.method === 'GET' && m) {
    const target = requireObject(state, m[1] ?? '');
    const record = target.records.get(m[2] ?? '');
    if (!record) return { status: 404, body: { message: 'no such record' } };
    return { status: 200, body: { values: record, history: target.history.filter((row) => row.recordId === m[2]) } };
  }
  if (request.path === '/_sandbox/calls') {
    if (request.method === 'DELETE') state.calls.length = 0;
    return { status: 200, body: { calls: state.calls, api: state.api } };
  }
  return { status: 404, body: { message: 'no such sandbox route' } };
}
