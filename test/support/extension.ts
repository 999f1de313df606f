import {
  createAgent,
  bootstrapWorkspace,
  publishPolicy,
  createWorkspace,
} from '../../server/src/services/governance/index.ts';
import type { PersonRole } from '../../server/src/domain/approval-lifecycle.ts';
import { givePeopleRoles } from './approvals.ts';
import { ADMIN, EXAMPLE_POLICY, type Harness } from './harness.ts';
import { APP_ID, signV3 } from './webhooks.ts';

let nextPortal = 8_000_000;

/** A connected workspace whose own client secret signs its HubSpot app's requests, with the example policy, an agent and people. */
export async function seedAppWorkspace(
  harness: Harness,
  people: Record<string, PersonRole>,
  clientSecret = `secret-${nextPortal}`,
) {
  const portalId = String(nextPortal++);
  const workspace = await createWorkspace(
    harness.deps,
    {
      name: `Portal ${portalId}`,
      hubspotPortalId: portalId,
      hubspotToken: harness.hubspot.accessToken,
      hubspotClientSecret: clientSecret,
    },
    ADMIN,
  );
  await publishPolicy(harness.deps, workspace.id, EXAMPLE_POLICY, ADMIN);
  const agent = await createAgent(harness.deps, workspace.id, { name: 'enricher', role: 'enrichment' }, ADMIN);
  await bootstrapWorkspace(harness.deps, workspace.id, ADMIN);
  await givePeopleRoles(harness, workspace.id, people);
  return { workspaceId: workspace.id, adminToken: workspace.adminToken, portalId, clientSecret, agent };
}

export interface AppCall {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Under /v1/extension, with our own query string if any. */
  path: string;
  body?: unknown;
  /** The body's text as sent, for JSON that JSON.stringify cannot write (a key given twice). */
  raw?: string;
  portalId: string;
  userId: string;
  clientSecret: string;
  timestamp?: number;
  /** Leave the signature headers out, or sign something other than what is sent. */
  unsigned?: boolean;
  signedUrl?: string;
}

/**
 * Calls the backend as `hubspot.fetch` does: HubSpot appends portalId, userId, userEmail and appId
 * to the query string and signs method + full URI + body + timestamp with the app's client secret,
 * here with HubSpot's own helper from @hubspot/api-client.
 */
export async function callAsHubSpot(harness: Harness, call: AppCall) {
  const method = call.method ?? 'GET';
  const url = new URL(`${harness.url}/v1/extension${call.path}`);
  url.searchParams.set('userId', call.userId);
  url.searchParams.set('userEmail', `user${call.userId}@example.com`);
  url.searchParams.set('appId', String(APP_ID));
  url.searchParams.set('portalId', call.portalId);
  const body = call.raw ?? (call.body === undefined ? '' : JSON.stringify(call.body));
  const timestamp = call.timestamp ?? Date.now();
  // HubSpot hashes the URI with some escapes decoded (its validation guide's table): userEmail's %40 is signed as @.
  const signedUrl = (call.signedUrl ?? url.toString()).replaceAll('%40', '@');
  const signature = signV3({ clientSecret: call.clientSecret, method, url: signedUrl, body, timestamp });
  const response = await fetch(url, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(call.unsigned
        ? {}
        : { 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': String(timestamp) }),
    },
    ...(body ? { body } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
