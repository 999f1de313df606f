import { and, eq, inArray, sql } from 'drizzle-orm';
import { insertRowsSkippingDuplicates } from './bulk-insert.ts';
import type { Db, Tx } from './database.ts';
import { webhookEvents, workspaces } from './schema.ts';

export type WebhookEventRow = typeof webhookEvents.$inferSelect;
export type NewWebhookEventRow = Omit<WebhookEventRow, 'processedAt' | 'outcome'>;

/** One statement for a whole delivery; events already stored (HubSpot retried) are skipped. Returns how many were new. */
export async function storeWebhookEvents(db: Db, rows: readonly NewWebhookEventRow[]): Promise<number> {
  return insertRowsSkippingDuplicates(
    db,
    'webhook_events',
    rows.map((row) => ({
      workspace_id: row.workspaceId,
      event_id: row.eventId,
      subscription_type: row.subscriptionType,
      object_id: row.objectId,
      property_name: row.propertyName,
      property_value: row.propertyValue,
      change_source: row.changeSource,
      source_id: row.sourceId,
      occurred_at: row.occurredAt.toISOString(),
      received_at: row.receivedAt.toISOString(),
      payload: row.payload,
    })),
  );
}

export async function findWorkspacesByPortals(db: Db, portalIds: readonly string[]): Promise<{ id: string; hubspotPortalId: string; hubspotClientSecretEnc: string | null }[]> {
  if (portalIds.length === 0) return [];
  return db
    .select({ id: workspaces.id, hubspotPortalId: workspaces.hubspotPortalId, hubspotClientSecretEnc: workspaces.hubspotClientSecretEnc })
    .from(workspaces)
    .where(inArray(workspaces.hubspotPortalId, [...portalIds]));
}

/** Workspaces with events waiting, oldest waiting first. */
export async function workspacesWithPendingEvents(db: Db, limit: number): Promise<string[]> {
  const rows = await db
    .select({ workspaceId: webhookEvents.workspaceId })
    .from(webhookEvents)
    .where(sql`${webhookEvents.processedAt} is null`)
    .groupBy(webhookEvents.workspaceId)
    .orderBy(sql`min(${webhookEvents.occurredAt})`)
    .limit(limit);
  return rows.map((row) => row.workspaceId);
}

/**
 * Claims the oldest unprocessed events of a workspace, by when they happened in the CRM (not
 * when they arrived). SKIP LOCKED lets another worker take other rows instead of waiting; the
 * claim lasts as long as the transaction, so a worker that dies releases it with no lease to expire.
 */
export async function claimPendingEvents(tx: Tx, workspaceId: string, limit: number): Promise<WebhookEventRow[]> {
  return tx
    .select()
    .from(webhookEvents)
    .where(and(eq(webhookEvents.workspaceId, workspaceId), sql`${webhookEvents.processedAt} is null`))
    .orderBy(webhookEvents.occurredAt, webhookEvents.eventId)
    .limit(limit)
    .for('update', { skipLocked: true });
}

export async function markEventsProcessed(tx: Tx, workspaceId: string, outcomes: readonly { eventId: number; outcome: string }[], at: Date): Promise<void> {
  if (outcomes.length === 0) return;
  await tx.execute(sql`
    update webhook_events as w set processed_at = ${at.toISOString()}::timestamptz, outcome = x.outcome
    from unnest(${sql.param(outcomes.map((o) => o.eventId))}::bigint[], ${sql.param(outcomes.map((o) => o.outcome))}::text[]) as x(event_id, outcome)
    where w.workspace_id = ${workspaceId}::uuid and w.event_id = x.event_id`);
}

export async function countPendingEvents(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(webhookEvents).where(sql`${webhookEvents.processedAt} is null`);
  return row?.n ?? 0;
}
