import { http, HttpResponse, type HttpHandler } from 'msw/http';
import { setupServer } from 'msw/node';
import type { CallLog } from '../../server/src/sandbox/hubspot/call-log.ts';
import type { HubSpotFaults } from '../../server/src/sandbox/hubspot/faults.ts';
import { handleHubSpotRequest } from '../../server/src/sandbox/hubspot/handler.ts';
import { createFakeHubSpotHttpServer } from '../../server/src/sandbox/hubspot/http-server.ts';
import { errorResponse, type HubSpotResponse } from '../../server/src/sandbox/hubspot/responses.ts';
import {
  createHubSpotState,
  type CreateHubSpotStateOptions,
  type HubSpotState,
} from '../../server/src/sandbox/hubspot/state.ts';

export const FAKE_HUBSPOT_URL = 'http://hubspot.test';

/**
 * msw handlers that answer every request under `baseUrl` from the fake HubSpot; with other portals, a request
 * carrying one of their access tokens is answered by that portal, each with its own records and faults.
 */
export function hubspotHandlers(
  state: HubSpotState,
  baseUrl: string = FAKE_HUBSPOT_URL,
  otherPortals: readonly HubSpotState[] = [],
): HttpHandler[] {
  const byToken = new Map(otherPortals.map((portal) => [`Bearer ${portal.accessToken}`, portal]));
  return [
    http.all(`${baseUrl}/*`, async ({ request }) => {
      const portal = byToken.get(request.headers.get('authorization') ?? '') ?? state;
      const url = new URL(request.url);
      const text = await request.text();
      let body: unknown;
      let response: HubSpotResponse;
      try {
        body = text === '' ? undefined : JSON.parse(text);
        response = await handleHubSpotRequest(portal, {
          method: request.method,
          path: url.pathname,
          query: url.searchParams,
          headers: Object.fromEntries(request.headers.entries()),
          body,
        });
      } catch {
        response = errorResponse(400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1');
      }
      if (response.dropConnection) return HttpResponse.error();
      return new HttpResponse(
        response.body === null || response.body === undefined ? null : JSON.stringify(response.body),
        {
          status: response.status,
          headers: response.headers,
        },
      );
    }),
  ];
}

export interface FakeHubSpot {
  state: HubSpotState;
  faults: HubSpotFaults;
  calls: CallLog;
  baseUrl: string;
  accessToken: string;
  /** Stops interception; throws if any request left for a non-loopback URL nothing handles, so such a test fails. */
  close(): void;
}

/** Starts the fake behind msw. Call `close()` in afterEach; only one may run at a time per process. */
export function startFakeHubSpot(
  options: CreateHubSpotStateOptions & { baseUrl?: string; otherPortals?: readonly HubSpotState[] } = {},
): FakeHubSpot {
  const baseUrl = options.baseUrl ?? FAKE_HUBSPOT_URL;
  const state = createHubSpotState(options);
  const server = setupServer(...hubspotHandlers(state, baseUrl, options.otherPortals));
  const unhandled: string[] = [];
  server.listen({
    // Loopback passes through: tests call the app under test on 127.0.0.1. Anything else is a leak.
    onUnhandledFrame: ({ frame, defaults }) => {
      const request = frameRequest(frame.data);
      if (request !== undefined && LOOPBACK.has(new URL(request.url).hostname)) return;
      unhandled.push(request === undefined ? `a ${frame.protocol} frame` : `${request.method} ${request.url}`);
      defaults.error();
    },
  });
  return {
    state,
    faults: state.faults,
    calls: state.calls,
    baseUrl,
    accessToken: state.accessToken,
    close() {
      server.close();
      if (unhandled.length > 0) throw new Error(`Requests reached no handler: ${unhandled.join(', ')}`);
    },
  };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function frameRequest(data: unknown): Request | undefined {
  const request = (data as { request?: unknown } | null)?.request;
  return request instanceof Request ? request : undefined;
}

/**
 * The same fake served over real HTTP on loopback, with no msw: for tests that also open
 * connections msw's socket interception breaks (gRPC over HTTP/2, the Pub/Sub client, issue 20).
 */
export async function startFakeHubSpotOverHttp(options: CreateHubSpotStateOptions = {}): Promise<FakeHubSpot> {
  const state = createHubSpotState(options);
  const server = createFakeHubSpotHttpServer(state);
  const baseUrl = await server.listen(0);
  return {
    state,
    faults: state.faults,
    calls: state.calls,
    baseUrl,
    accessToken: state.accessToken,
    close() {
      void server.close();
    },
  };
}
