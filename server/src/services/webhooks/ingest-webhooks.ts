import {
  type HubSpotWebhookEvent,
  hubspotWebhookEventSchema,
  isCommonHubSpotEvent,
  type WebhookIntakeResult,
} from '../../../../shared/hubspot-webhooks.ts';
import { parseJson } from '../../../../shared/json-text.ts';
import type { SignatureCheck, SignedRequest } from '../../crm/port.ts';
import { AppError, assertSafeJson, assertUniqueKeys } from '../../errors.ts';
import { storeWebhookDelivery, type PortalWorkspace, type WebhookDelivery } from '../../store/webhook-event-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import type { PortalDirectory } from './portal-directory.ts';

export interface IngestOptions {
  /** The HubSpot app's client secret, when configured: it signs for every portal. */
  appClientSecret?: string | undefined;
  portals: PortalDirectory;
}

/**
 * HubSpot's story: check the signature on the raw bytes, then read the events, keep those of
 * connected portals, and store the delivery whole in one row. Nothing is processed here (HubSpot
 * waits about 5 s for the answer); the worker splits stored deliveries into events afterwards,
 * skipping events an earlier delivery stored, so a retried event counts in `stored` here and is
 * still stored and processed once. `duplicates` counts repeats within this delivery.
 */
export async function ingestHubSpotWebhook(
  deps: ServiceDeps,
  request: SignedRequest,
  options: IngestOptions,
): Promise<WebhookIntakeResult> {
  const now = deps.clock();
  // Which key signed the body depends on the portal it names, so the portal ids are read before
  // the signature is trusted; nothing else in the body is used until it is.
  const parsed = parseDelivery(request.rawBody);
  const portalIds = parsed.ok ? portalIdsIn(parsed.value) : [];
  let directory = await options.portals.lookup(portalIds);
  let verdict = verifySignature(deps, request, directory.workspaces, options.appClientSecret, now);
  if (!verdict.ok && directory.remembered) {
    // A secret rotated since it was remembered: ask the database before refusing.
    directory = await options.portals.lookup(portalIds, { fresh: true });
    verdict = verifySignature(deps, request, directory.workspaces, options.appClientSecret, now);
  }
  if (!verdict.ok) throw new AppError(verdict.code, verdict.message);
  const known = directory.workspaces;

  if (!parsed.ok) throw new AppError('MALFORMED_JSON', 'The webhook body is not valid JSON.');
  // Signed bytes that say two things: we would read the last `portalId` or value, another reader
  // of the same body (a proxy's log, the raw body stored) the first.
  assertUniqueKeys(parsed.text, 'The webhook body');
  if (!Array.isArray(parsed.value))
    throw new AppError('VALIDATION_FAILED', 'The webhook body must be a JSON array of HubSpot events.');
  const events = readWebhookEvents(parsed.value);
  const workspaceOf = new Map(known.map((w) => [w.hubspotPortalId, w.id]));
  const result: WebhookIntakeResult = {
    received: parsed.value.length,
    stored: 0,
    duplicates: 0,
    unknownPortal: 0,
    rejected: [],
  };
  const toStore: WebhookDelivery['events'][number][] = [];
  const seen = new Set<string>();
  events.forEach((event, index) => {
    if (!event.ok) {
      result.rejected.push({ index, problem: event.problem });
      return;
    }
    const portalId = String(event.event.portalId);
    const workspaceId = workspaceOf.get(portalId);
    if (workspaceId === undefined) {
      result.unknownPortal += 1;
      return;
    }
    if (!verdict.byApp && !verdict.portals.has(portalId)) {
      result.rejected.push({ index, problem: `the signature does not cover portal ${portalId}` });
      return;
    }
    const key = `${workspaceId} ${event.event.eventId}`;
    if (seen.has(key)) {
      result.duplicates += 1;
      return;
    }
    seen.add(key);
    toStore.push({ index, workspaceId });
  });
  await storeWebhookDelivery(deps.db, {
    body: parsed.text,
    elementCount: parsed.value.length,
    receivedAt: now,
    events: toStore,
  });
  result.stored = toStore.length;
  return result;
}

export type EventReading = { ok: true; event: HubSpotWebhookEvent } | { ok: false; problem: string };

/**
 * Each element of a delivery as an event or the reason it is not one; throws when the body as a
 * whole holds what no request may (`assertSafeJson`). A delivery of HubSpot's usual events is
 * checked by hand in one pass; any other goes through the safe-text walk and the schema, so every
 * refusal reads as the contract words it.
 */
export function readWebhookEvents(body: unknown[]): EventReading[] {
  if (body.every(isCommonHubSpotEvent)) return body.map((event) => ({ ok: true, event }));
  // Postgres reads the whole body as jsonb, so one unsafe text anywhere would fail the delivery's insert.
  assertSafeJson(body, 'The webhook body');
  return body.map((element) => {
    const event = hubspotWebhookEventSchema.safeParse(element);
    if (event.success) return { ok: true, event: event.data };
    const issue = event.error.issues[0];
    return {
      ok: false,
      problem: issue ? `${issue.path.join('.') || 'the event'}: ${issue.message}` : 'not a HubSpot event',
    };
  });
}

type Verdict = { ok: true; byApp: boolean; portals: Set<string> } | Extract<SignatureCheck, { ok: false }>;

/** Signed by the app's secret (every portal), or by the secrets of these portals; otherwise why not. */
function verifySignature(
  deps: ServiceDeps,
  request: SignedRequest,
  known: readonly PortalWorkspace[],
  appClientSecret: string | undefined,
  now: Date,
): Verdict {
  const appCheck = appClientSecret ? deps.checkSignedRequest(request, [appClientSecret], now) : undefined;
  if (appCheck?.ok) return { ok: true, byApp: true, portals: new Set() };
  const secretOf = new Map(
    known.flatMap((w) =>
      w.hubspotClientSecretEnc ? [[w.hubspotPortalId, deps.secrets.open(w.hubspotClientSecretEnc)] as const] : [],
    ),
  );
  const portals = new Set<string>();
  for (const [portalId, secret] of secretOf)
    if (deps.checkSignedRequest(request, [secret], now).ok) portals.add(portalId);
  if (portals.size > 0) return { ok: true, byApp: false, portals };
  const check = appCheck ?? deps.checkSignedRequest(request, [...secretOf.values()], now);
  if (check.ok) throw new Error('unreachable: a verifying secret was not recorded');
  return check;
}

function parseDelivery(raw: Buffer): { ok: true; value: unknown; text: string } | { ok: false } {
  try {
    const text = raw.toString('utf8');
    return { ok: true, value: parseJson(text), text };
  } catch {
    return { ok: false };
  }
}

function portalIdsIn(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const ids = new Set<string>();
  for (const element of value) {
    const portalId = (element as { portalId?: unknown } | null)?.portalId;
    if (typeof portalId === 'number' && Number.isSafeInteger(portalId) && portalId > 0) ids.add(String(portalId));
    if (ids.size > 100) break; // HubSpot sends one portal's events per request; a body naming hundreds is not HubSpot's
  }
  return [...ids];
}
