import { CRM_OBJECT_TYPES, crmOfObjectType } from '../../../../shared/crm-names.ts';
import type { CrmChangeEvent } from '../../../../shared/crm-change-events.ts';
import type { HubSpotWebhookEvent } from '../../../../shared/hubspot-webhooks.ts';
import type { CrmPort } from '../../crm/port.ts';
import { DEFAULT_MONITORING, type MonitoringSettings } from '../../../../shared/policy.ts';
import {
  classifyPropertyChange,
  readSubscriptionType,
  type Classification,
  type SubscriptionMeaning,
} from '../../domain/crm-change-classification.ts';
import { listAgents } from '../../store/agent-store.ts';
import type { Tx } from '../../store/database.ts';
import { fieldKey, findKnownWrites, insertFieldChanges, type FieldChangeRow } from '../../store/field-history-store.ts';
import { findLatestPolicyVersion } from '../../store/policy-store.ts';
import { STREAMED_CHANGE_TYPE } from '../../store/crm-event-stream-store.ts';
import { databaseErrorIn } from '../../errors.ts';
import {
  claimPendingEvents,
  DECISION_ON_UNKNOWN_OBJECT,
  deliveriesToSplit,
  markEventsProcessed,
  setDeliveryAside,
  splitWebhookDeliveries,
  workspacesWithPendingEvents,
  type WebhookEventRow,
} from '../../store/webhook-event-store.ts';
import { type ServiceDeps, withAuditChain, type AuditAppender } from '../common/index.ts';
import { reconcileApprovals } from '../held/index.ts';
import { checkKillTriggers, checkRejectionRate, parseStoredPolicy, requireWorkspace } from '../governance/index.ts';
import { executeReleasedActions } from '../actions/index.ts';
import { revertBypassWrites, type BypassToRevert } from './revert-bypass.ts';

export interface ProcessOptions {
  batchSize?: number;
}

const SYSTEM_ACTOR = { type: 'system', name: 'hubspot-webhooks' } as const;

/** Deliveries split into events per statement: about 10,000 events. */
export const SPLIT_BATCH = 100;

/**
 * Splits a batch of the deliveries intake stored whole into webhook events; returns how many
 * were split (a full batch: more may wait). A delivery that cannot be split (its row was altered
 * in the database: not an array, an event without its id) fails the batch's statement; the batch
 * is then split one delivery at a time and that one left aside with why, so one row never stops
 * every workspace's events.
 */
export async function splitStoredDeliveries(
  deps: ServiceDeps,
  onSetAside: (setAside: { deliveryId: number; code: string }) => void = () => {},
): Promise<number> {
  try {
    return await splitWebhookDeliveries(deps.db, SPLIT_BATCH);
  } catch (error) {
    if (!isDataError(error)) throw error;
  }
  let split = 0;
  for (const id of await deliveriesToSplit(deps.db, SPLIT_BATCH)) {
    try {
      split += await splitWebhookDeliveries(deps.db, 1, id);
    } catch (error) {
      if (!isDataError(error)) throw error;
      const refusal = databaseErrorIn(error) as { code: string; message?: string };
      await setDeliveryAside(deps.db, id, refusal.message ?? 'not a delivery');
      onSetAside({ deliveryId: id, code: refusal.code });
    }
  }
  return split;
}

/** A statement refused for what the rows hold (SQLSTATE classes 22 and 23), not for the database being unavailable. */
function isDataError(error: unknown): boolean {
  const code = databaseErrorIn(error)?.code ?? '';
  return code.startsWith('22') || code.startsWith('23');
}

/**
 * Splits every stored delivery into events, then takes stored webhook events, oldest first by
 * when they happened, and records what each one means. Claiming, recording and marking processed share one transaction, so an event's
 * effects happen once: a worker that dies mid-way rolls back and its events are taken again.
 * The transaction holds the workspace's audit-chain lock, which also keeps two workers from
 * interleaving one workspace's events. Returns how many events were processed.
 */
export async function processWebhookEvents(deps: ServiceDeps, options: ProcessOptions = {}): Promise<number> {
  while ((await splitStoredDeliveries(deps)) === SPLIT_BATCH);
  // Each workspace on its own: a portal waiting out a 429 storm (a revert, a released draft) never holds up another's events.
  const workspaces = await workspacesWithWebhookEvents(deps, { limit: 20 });
  const processed = await Promise.all(
    workspaces.map((workspaceId) => processWorkspaceEvents(deps, workspaceId, options)),
  );
  return processed.reduce((sum, count) => sum + count, 0);
}

/** Workspaces with events waiting, oldest first, but those in `except` (the worker's lanes busy with them). */
export function workspacesWithWebhookEvents(
  deps: ServiceDeps,
  query: { limit: number; except?: readonly string[] },
): Promise<string[]> {
  return workspacesWithPendingEvents(deps.db, query.limit, query.except);
}

/** One batch of one workspace's events, and what they set off in its CRM; returns how many were processed. */
export async function processWorkspaceEvents(
  deps: ServiceDeps,
  workspaceId: string,
  options: ProcessOptions = {},
): Promise<number> {
  // Read before the transaction: on PGlite a query outside it would wait for it to end.
  const crm = deps.crmFor(await requireWorkspace(deps, workspaceId));
  const result = await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const events = await claimPendingEvents(tx, workspaceId, options.batchSize ?? 500);
    if (events.length === 0)
      return { count: 0, monitoring: DEFAULT_MONITORING, reverts: [], rejectedInCrm: [], releasedDrafts: [] };
    const monitoring = await monitoringSettings(tx, workspaceId);
    const { history, outcomes, bypasses } = await interpret(tx, { workspaceId, events, monitoring, crm });
    for (const bypass of bypasses) auditBypass(audit, bypass.row);
    await insertFieldChanges(tx, history);
    const reconciled = await reconcileApprovals(tx, audit, {
      workspaceId,
      rows: history,
      now: deps.clock(),
      secrets: deps.secrets,
      crm,
    });
    const unmatched = new Set(reconciled.unmatchedDecisions);
    await markEventsProcessed(
      tx,
      workspaceId,
      outcomes.map((o) => (unmatched.has(o.eventId) ? { ...o, outcome: DECISION_ON_UNKNOWN_OBJECT } : o)),
      deps.clock(),
    );
    return {
      count: events.length,
      monitoring,
      reverts: monitoring.revertBypassWrites ? bypasses : [],
      rejectedInCrm: reconciled.rejected,
      releasedDrafts: reconciled.releasedDrafts,
    };
  });
  if (result.count === 0) return 0;
  // After the commit: a CRM call must not hold the audit lock, and a revert lost to a crash here
  // leaves the bypass audited and visible, never a write done twice from one event.
  if (result.reverts.length > 0) await revertBypassWrites(deps, workspaceId, result.reverts);
  await checkKillTriggers(deps, workspaceId, result.monitoring.killTriggers);
  if (result.rejectedInCrm.length > 0) await checkRejectionRate(deps, workspaceId, result.rejectedInCrm);
  await executeReleasedActions(deps, workspaceId, result.releasedDrafts);
  return result.count;
}

async function interpret(
  tx: Tx,
  input: { workspaceId: string; events: WebhookEventRow[]; monitoring: MonitoringSettings; crm: CrmPort },
) {
  const { workspaceId, events, monitoring, crm } = input;
  const propertyEvents = events.filter((e) => e.propertyName !== null);
  const known = await findKnownWrites(
    tx,
    workspaceId,
    unique(propertyEvents.map((e) => e.objectId)),
    unique(propertyEvents.map((e) => e.propertyName ?? '')),
  );
  const agentByName = new Map((await listAgents(tx, workspaceId)).map((a) => [a.name, a.id]));
  const history: FieldChangeRow[] = [];
  const outcomes: { eventId: number; outcome: string }[] = [];
  const bypasses: BypassToRevert[] = [];
  const connected = new Set(crm.objectTypes.map(crmOfObjectType));
  const governedTypes = new Set<string>(CRM_OBJECT_TYPES);
  for (const event of events) {
    const payload = event.payload as HubSpotWebhookEvent;
    const streamed = event.subscriptionType === STREAMED_CHANGE_TYPE ? (event.payload as StoredStreamedChange) : null;
    const meaning = streamed
      ? streamedMeaning(streamed)
      : readSubscriptionType(event.subscriptionType, payload.objectTypeId);
    if (!meaning || (meaning.event === 'property_change' && event.propertyName === null)) {
      outcomes.push({ eventId: event.eventId, outcome: 'ignored_subscription_type' });
      continue;
    }
    // Taken before its CRM was disconnected (issue 20): nothing of it is read with another CRM's
    // port. Only a governed object type names its CRM (the approval object's is the first CRM's).
    if (governedTypes.has(meaning.objectType) && !connected.has(crmOfObjectType(meaning.objectType))) {
      outcomes.push({ eventId: event.eventId, outcome: 'crm_disconnected' });
      continue;
    }
    const property = meaning.event === 'property_change' ? (event.propertyName ?? '') : '';
    let classification: Classification;
    if (meaning.event === 'record') classification = { kind: meaning.kind, changeId: null, agentId: null };
    else {
      // A streamed change comes with its source already in our words (its adapter read the CRM's origin).
      const source = streamed
        ? streamed.source
        : crm.forObject(meaning.objectType).changeSourceOf({
            changeSource: event.changeSource,
            sourceId: event.sourceId,
            appId: payload.appId === undefined ? null : String(payload.appId),
          });
      classification = classifyPropertyChange(
        { source, property, value: event.propertyValue },
        known.get(fieldKey(meaning.objectType, event.objectId, property)) ?? [],
      );
      if (classification.kind === 'bypass' && event.sourceId !== null) {
        const named = monitoring.integrations[event.sourceId];
        classification = { ...classification, agentId: (named && agentByName.get(named)) ?? null };
      }
    }
    const row: FieldChangeRow = {
      workspaceId,
      eventId: event.eventId,
      objectType: meaning.objectType,
      recordId: event.objectId,
      property,
      value: event.propertyValue,
      occurredAt: event.occurredAt,
      kind: classification.kind,
      changeSource: event.changeSource,
      sourceId: event.sourceId,
      agentId: classification.agentId,
      changeId: classification.changeId,
      data: meaning.event === 'record' && !streamed ? recordDetails(payload) : null,
      attemptNumber: streamed ? null : (payload.attemptNumber ?? null),
    };
    history.push(row);
    if (classification.kind === 'bypass') bypasses.push({ row });
    outcomes.push({ eventId: event.eventId, outcome: classification.kind });
  }
  return { history, outcomes, bypasses };
}

function auditBypass(audit: AuditAppender, row: FieldChangeRow): void {
  audit.append({
    type: 'crm.bypass_write',
    actor: SYSTEM_ACTOR,
    agentId: row.agentId,
    objectType: row.objectType,
    recordId: row.recordId,
    property: row.property,
    after: { value: row.value },
    data: {
      eventId: row.eventId,
      changeSource: row.changeSource,
      sourceId: row.sourceId,
      occurredAt: row.occurredAt.toISOString(),
    },
  });
}

async function monitoringSettings(tx: Tx, workspaceId: string): Promise<MonitoringSettings> {
  const stored = await findLatestPolicyVersion(tx, workspaceId);
  const parsed = stored ? parseStoredPolicy(workspaceId, stored) : undefined;
  return (parsed?.ok ? parsed.policy.monitoring : undefined) ?? DEFAULT_MONITORING;
}

function recordDetails(event: HubSpotWebhookEvent): FieldChangeRow['data'] {
  const details: Record<string, unknown> = {};
  if (event.primaryObjectId !== undefined) details.primaryObjectId = event.primaryObjectId;
  if (event.mergedObjectIds !== undefined) details.mergedObjectIds = event.mergedObjectIds;
  if (event.newObjectId !== undefined) details.newObjectId = event.newObjectId;
  return Object.keys(details).length > 0 ? details : null;
}

/** A streamed change as stored (see `storeStreamBatch`): the neutral event, its time as text. */
type StoredStreamedChange = Omit<CrmChangeEvent, 'occurredAt'> & { occurredAt: string };

function streamedMeaning(change: StoredStreamedChange): SubscriptionMeaning {
  return change.recordEvent === null
    ? { objectType: change.objectType, event: 'property_change' }
    : { objectType: change.objectType, event: 'record', kind: change.recordEvent };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
