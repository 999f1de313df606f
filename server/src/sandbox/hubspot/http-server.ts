import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleHubSpotRequest } from './handler.ts';
import { errorResponse, type HubSpotRequest, type HubSpotResponse } from './responses.ts';
import type { HubSpotState } from './state.ts';
import { parseJson } from '../../../../shared/json-text.ts';

export interface FakeHubSpotHttpServer {
  /** Starts listening on 127.0.0.1; port 0 picks a free one. Resolves to the base URL. */
  listen(port?: number): Promise<string>;
  close(): Promise<void>;
}

/** Routes served beside HubSpot's (the sandbox's `/_sandbox/...`); undefined passes the request on to the fake HubSpot. */
export type ExtraRoutes = (request: HubSpotRequest) => HubSpotResponse | undefined;

/**
 * Serves the fake over real HTTP, for benchmarks and the standalone sandbox. Never part of a production path.
 * Given several portals, each request goes to the one whose access token it carries (else the first, which
 * answers 401), so one server URL stands for many HubSpot accounts, each with its own records and rate limit.
 */
export function createFakeHubSpotHttpServer(
  portals: HubSpotState | readonly HubSpotState[],
  options: { extraRoutes?: ExtraRoutes } = {},
): FakeHubSpotHttpServer {
  const states: readonly HubSpotState[] = Array.isArray(portals) ? portals : [portals as HubSpotState];
  const byToken = new Map(states.map((state) => [`Bearer ${state.accessToken}`, state]));
  const server: Server = createServer((req, res) => {
    const state = byToken.get(req.headers.authorization ?? '') ?? states[0]!;
    void respond(state, req, options.extraRoutes).then((response) => {
      if (response.dropConnection) {
        req.socket.destroy();
        return;
      }
      res.writeHead(response.status, response.headers);
      res.end(response.body === undefined || response.body === null ? undefined : JSON.stringify(response.body));
    });
  });
  return {
    listen(port = 0) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          const address = server.address() as AddressInfo;
          resolve(`http://127.0.0.1:${address.port}`);
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

async function respond(
  state: HubSpotState,
  req: IncomingMessage,
  extraRoutes: ExtraRoutes | undefined,
): Promise<HubSpotResponse> {
  const url = new URL(req.url ?? '/', 'http://fake-hubspot.local');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  if (raw !== '') {
    try {
      body = parseJson(raw);
    } catch {
      return errorResponse(400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1');
    }
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers[name] = value;
  }
  const request: HubSpotRequest = {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers,
    body,
  };
  return extraRoutes?.(request) ?? handleHubSpotRequest(state, request);
}
