import { Signature } from '@hubspot/api-client';
import { count, eq } from 'drizzle-orm';
import type { HubSpotWebhookEvent } from '../../shared/hubspot-webhooks.ts';
import { createWorkspace } from '../../server/src/services/governance/index.ts';
import type { Db } from '../../server/src/store/database.ts';
import { recordPropertyChanges, webhookEvents } from '../../server/src/store/schema.ts';
import { splitWebhookDeliveries } from '../../server/src/store/webhook-event-store.ts';
import { ADMIN, type Harness } from './harness.ts';

export const APP_ID = 4242424;
let nextPortal = 7_000_000;
let nextEventId = 1;

/** A workspace whose HubSpot client secret signs its webhooks. */
export async function seedWebhookWorkspace(
  harness: Harness,
  clientSecret = 'workspace-client-secret',
  hubspotToken: string = harness.hubspot.accessToken,
) {
  const portalId = nextPortal++;
  const workspace = await createWorkspace(
    harness.deps,
    {
      name: `Portal ${portalId}`,
      hubspotPortalId: String(portalId),
      hubspotToken,
      hubspotClientSecret: clientSecret,
    },
    ADMIN,
  );
  return { workspaceId: workspace.id, adminToken: workspace.adminToken, portalId, clientSecret };
}

/** A property change as HubSpot sends it; ids are unique across the test run unless given. */
export function propertyChange(portalId: number, overrides: Partial<HubSpotWebhookEvent> = {}): HubSpotWebhookEvent {
  return {
    eventId: nextEventId++,
    subscriptionId: 310_002,
    portalId,
    appId: APP_ID,
    occurredAt: Date.now(),
    subscriptionType: 'contact.propertyChange',
    attemptNumber: 0,
    objectId: 1001,
    propertyName: 'jobtitle',
    propertyValue: 'CTO',
    changeSource: 'CRM_UI',
    sourceId: 'userId:9001',
    ...overrides,
  };
}

/** Signs with HubSpot's own helper from @hubspot/api-client, as HubSpot does: v3, over method + URI + body + timestamp. */
export function signV3(input: {
  clientSecret: string;
  method?: string;
  url: string;
  body: string;
  timestamp: number;
}): string {
  return Signature.getSignature(input.method ?? 'POST', 'v3', {
    clientSecret: input.clientSecret,
    requestBody: input.body,
    url: input.url,
    timestamp: input.timestamp,
    signature: '',
  });
}

export interface Delivery {
  body?: string;
  clientSecret: string;
  timestamp?: number;
  /** What the signature is computed over, when a test alters one part of the request. */
  signed?: { method?: string; url?: string; body?: string; timestamp?: number };
  headers?: Record<string, string>;
  path?: string;
}

export async function deliver(harness: Harness, events: unknown, delivery: Delivery) {
  const path = delivery.path ?? '/webhooks/hubspot';
  const url = `${harness.url}${path}`;
  const body = delivery.body ?? JSON.stringify(events);
  const timestamp = delivery.timestamp ?? Date.now();
  const signature = signV3({
    clientSecret: delivery.clientSecret,
    method: delivery.signed?.method ?? 'POST',
    url: delivery.signed?.url ?? url,
    body: delivery.signed?.body ?? body,
    timestamp: delivery.signed?.timestamp ?? timestamp,
  });
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hubspot-signature-version': 'v3',
      'x-hubspot-signature-v3': signature,
      'x-hubspot-request-timestamp': String(timestamp),
      ...delivery.headers,
    },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

/** Splits every delivery intake stored whole into events, as the worker does before processing. */
export async function splitDeliveries(db: Db): Promise<void> {
  while ((await splitWebhookDeliveries(db, 100)) > 0);
}

/** Events stored once every delivery received is split. */
export async function storedEventCount(db: Db, workspaceId?: string): Promise<number> {
  await splitDeliveries(db);
  const query = db.select({ n: count() }).from(webhookEvents);
  const [row] = workspaceId ? await query.where(eq(webhookEvents.workspaceId, workspaceId)) : await query;
  return row?.n ?? 0;
}

export async function historyRows(db: Db, workspaceId: string) {
  return db
    .select()
    .from(recordPropertyChanges)
    .where(eq(recordPropertyChanges.workspaceId, workspaceId))
    .orderBy(recordPropertyChanges.occurredAt, recordPropertyChanges.eventId);
}
