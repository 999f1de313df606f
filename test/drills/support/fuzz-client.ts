import { createHmac } from 'node:crypto';
import http from 'node:http';
import { decodeSignedUri } from '../../../server/src/crm/hubspot/webhook-signature.ts';
import type { FuzzInput } from './fuzz-mutations.ts';
import type { FuzzRoute } from './fuzz-routes.ts';

export interface FuzzCredentials {
  agentToken: string;
  adminToken: string;
  /** HubSpot's side: the portal, the signed-in person, and the app's client secret that signs for both. */
  portalId: string;
  userId: string;
  appId: string;
  clientSecret: string;
}

export interface FuzzResponse {
  status: number;
  /** The start of the answer, for the failure report. */
  excerpt: string;
}

/**
 * Sends fuzzed requests over a few kept-alive loopback connections, with the credentials each
 * caller needs: bearer tokens for the API, HubSpot's v3 signature for the app and the webhooks.
 */
export function fuzzClient(baseUrl: string, credentials: FuzzCredentials) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  function send(route: FuzzRoute, input: FuzzInput): Promise<FuzzResponse> {
    const path = route.path.replace(/\{(\w+)\}/g, (_match, name: string) => input.pathParams[name] ?? 'missing');
    const query = new URLSearchParams(
      route.caller === 'hubspot_app'
        ? { ...input.query, portalId: credentials.portalId, userId: credentials.userId, appId: credentials.appId }
        : input.query,
    ).toString();
    const target = `${path}${query ? `?${query}` : ''}`;
    const body = input.body === undefined ? undefined : Buffer.from(input.body, 'utf8');
    const headers: Record<string, string> = {
      ...(body
        ? { 'content-type': input.contentType ?? 'application/json', 'content-length': String(body.length) }
        : {}),
      ...authHeaders(route, input, `${baseUrl}${target}`, body),
    };
    return new Promise((resolve, reject) => {
      const request = http.request(
        `${baseUrl}${target}`,
        { method: route.method, headers, agent, timeout: 30_000 },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              excerpt: Buffer.concat(chunks).toString('utf8').slice(0, 300),
            }),
          );
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error(`${route.method} ${target} timed out`)));
      request.on('error', reject);
      request.end(body);
    });
  }

  function authHeaders(
    route: FuzzRoute,
    input: FuzzInput,
    url: string,
    body: Buffer | undefined,
  ): Record<string, string> {
    if (input.auth === 'missing') return {};
    if (route.caller === 'agent' || route.caller === 'admin') {
      // The other kind of token is as wrong as a made-up one: admin routes take only admin tokens.
      const token =
        input.auth === 'wrong'
          ? route.caller === 'agent'
            ? credentials.adminToken
            : credentials.agentToken
          : route.caller === 'agent'
            ? credentials.agentToken
            : credentials.adminToken;
      return { authorization: `Bearer ${token}` };
    }
    const now = Date.now();
    const timestamp =
      input.auth === 'stale_timestamp'
        ? String(now - 10 * 60_000)
        : input.auth === 'loose_timestamp'
          ? `${now}.0`
          : String(now);
    const secret = input.auth === 'wrong' ? 'not-the-client-secret' : credentials.clientSecret;
    const signature = createHmac('sha256', secret)
      .update(`${route.method}${decodeSignedUri(url)}`)
      .update(body ?? Buffer.alloc(0))
      .update(timestamp)
      .digest('base64');
    return { 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp };
  }

  /** Runs every job with at most `concurrency` in flight. */
  async function sendAll<T>(jobs: readonly T[], concurrency: number, run: (job: T) => Promise<void>): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < jobs.length) await run(jobs[next++]!);
      }),
    );
  }

  return { send, sendAll, close: () => agent.destroy() };
}
