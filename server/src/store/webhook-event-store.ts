import { and, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import { databaseErrorIn } from '../errors.ts';
import type { Db, Tx } from './database.ts';
import { crmConnections, webhookEvents, workspaces } from './schema.ts';

export type WebhookEventRow = typeof webhookEvents.$inferSelect;
/** A delivery as HubSpot sent it, and which of its elements to store for which workspace. */
export interface WebhookDelivery {
  /** The request body: a JSON array of HubSpot events. */
  body: string;
  /** How many elements the body's array holds. */
  elementCount: number;
  receivedAt: Date;
  /** Index into the body's array of each event to store, with its portal's workspace. */
  events: readonly { index: number; workspaceId: string }[];
}

/** SQLSTATE of a duplicate key. */
const UNIQUE_VIOLATION = '23505';

/**
 * One statement for a whole delivery; events already stored (HubSpot retried) are skipped.
 * Returns how many were new. The body travels once, as the jsonb parameter Postgres parses a
 * single time, and each stored row takes its element (kept whole as `payload`) and columns from
 * it: re-serialising and escaping every event in JavaScript cost the intake more than the rest
 * of its work together.
 *
 * Most deliveries are new, so the insert is tried plainly first: `on conflict do nothing` checks
 * the key before each row and again after it (about a fifth of the insert's work on PGlite), and
 * is only asked for when a duplicate key refused the plain insert, which then stored nothing.
 */
export async function storeWebhookEvents(db: Db, delivery: WebhookDelivery): Promise<number> {
  if (delivery.events.length === 0) return 0;
  try {
    return await insertWebhookEvents(db, delivery, sql``);
  } catch (error) {
    if (databaseErrorIn(error)?.code !== UNIQUE_VIOLATION) throw error;
    return insertWebhookEvents(db, delivery, sql`on conflict do nothing`);
  }
}

async function insertWebhookEvents(db: Db, delivery: WebhookDelivery, onConflict: SQL): Promise<number> {
  const [first] = delivery.events;
  // The usual delivery: every element, one portal's workspace. Matching elements to workspaces by
  // index (the join) was another eighth of the insert's work.
  const wholeBody =
    delivery.events.length === delivery.elementCount &&
    delivery.events.every((event, index) => event.index === index && event.workspaceId === first!.workspaceId);
  const elements = wholeBody
    ? sql`select ${first!.workspaceId}::uuid as workspace_id, e from jsonb_array_elements(${delivery.body}::jsonb) as element(e)`
    : sql`select x.workspace_id, e from jsonb_array_elements(${delivery.body}::jsonb) with ordinality as element(e, position)
          join unnest(${sql.param(delivery.events.map((event) => event.index))}::integer[], ${sql.param(delivery.events.map((event) => event.workspaceId))}::uuid[]) as x(index, workspace_id)
            on x.index = element.position - 1`;
  const result = await db.execute(sql`
    insert into webhook_events (workspace_id, event_id, subscription_type, object_id, property_name, property_value, change_source, source_id, occurred_at, received_at, payload)
    select s.workspace_id, (e->>'eventId')::bigint, e->>'subscriptionType', e->>'objectId', e->>'propertyName', e->>'propertyValue', e->>'changeSource', e->>'sourceId',
           to_timestamp((e->>'occurredAt')::numeric / 1000), ${delivery.receivedAt.toISOString()}::timestamptz, e
    from (${elements}) as s
    ${onConflict}`);
  // Counted, not returned: a row back per event was a twentieth of the insert's work.
  // node-postgres says `rowCount`, PGlite `affectedRows`.
  const { rowCount, affectedRows } = result as unknown as { rowCount?: number | null; affectedRows?: number };
  return rowCount ?? affectedRows ?? 0;
}

/** A connected portal's workspace and its sealed client secret. */
export interface PortalWorkspace {
  id: string;
  hubspotPortalId: string;
  hubspotClientSecretEnc: string | null;
}

/** The workspaces connected to these portals, as their first CRM or their second (issue 20). */
export async function findWorkspacesByPortals(db: Db, portalIds: readonly string[]): Promise<PortalWorkspace[]> {
  if (portalIds.length === 0) return [];
  return (
    db
      .select({
        id: workspaces.id,
        hubspotPortalId: crmConnections.accountId,
        hubspotClientSecretEnc: crmConnections.clientSecretEnc,
      })
      .from(crmConnections)
      .innerJoin(workspaces, eq(workspaces.id, crmConnections.workspaceId))
      // A removed workspace gives its portal back: the events are the active workspace's.
      .where(
        and(
          eq(crmConnections.crm, 'hubspot'),
          inArray(crmConnections.accountId, [...portalIds]),
          isNull(workspaces.removedAt),
        ),
      )
  );
}

/**
 * Workspaces with events waiting, oldest waiting first: one probe of the pending index per
 * workspace, so the cost follows the number of workspaces, not the size of the backlog. `except`
 * leaves out workspaces whose events are in hand here already.
 */
export async function workspacesWithPendingEvents(
  db: Db,
  limit: number,
  except: readonly string[] = [],
): Promise<string[]> {
  const others =
    except.length > 0
      ? sql`where w.id not in (${sql.join(
          except.map((id) => sql`${id}`),
          sql`, `,
        )})`
      : sql``;
  const result = await db.execute(sql`
    select w.id as workspace_id from ${workspaces} as w
    cross join lateral (
      select e.occurred_at from ${webhookEvents} as e
      where e.workspace_id = w.id and e.processed_at is null
      order by e.occurred_at, e.event_id limit 1
    ) as oldest
    ${others}
    order by oldest.occurred_at
    limit ${limit}`);
  return (result as unknown as { rows: { workspace_id: string }[] }).rows.map((row) => row.workspace_id);
}

/**
 * Claims the oldest unprocessed events of a workspace, by when they happened in the CRM (not
 * when they arrived). SKIP LOCKED lets another worker take other rows instead of waiting; the
 * claim lasts as long as the transaction, so a worker that dies releases it with no lease to expire.
 */
export async function claimPendingEvents(tx: Tx, workspaceId: string, limit: number): Promise<WebhookEventRow[]> {
  // A backlog builds faster than statistics follow (an outage's redelivery): planned from stale
  // counts, Postgres reads every pending event by bitmap and sorts them all to keep `limit`, on
  // each claim. Reading the ordered index and stopping at the limit is right at any size.
  await tx.execute(sql`set local enable_bitmapscan = off`);
  const claimed = await tx
    .select()
    .from(webhookEvents)
    .where(and(eq(webhookEvents.workspaceId, workspaceId), sql`${webhookEvents.processedAt} is null`))
    .orderBy(webhookEvents.occurredAt, webhookEvents.eventId)
    .limit(limit)
    .for('update', { skipLocked: true });
  await tx.execute(sql`set local enable_bitmapscan = on`);
  return claimed;
}

/** The outcome of a person's decision on an approval object whose id the mirror has not stored yet. */
export const DECISION_ON_UNKNOWN_OBJECT = 'approval_object_unknown';

/**
 * Sends decisions made on these approval objects before their ids were stored back to processing,
 * which now finds their approvals (a stored history row is skipped the second time). Run under the
 * workspace's audit-chain lock with the id's write: processing holds it too, so a decision is either
 * processed after the id is stored or marked unknown before this looks.
 */
export async function requeueDecisionsOnObjects(
  tx: Tx,
  workspaceId: string,
  objectIds: readonly string[],
): Promise<number> {
  if (objectIds.length === 0) return 0;
  const requeued = await tx
    .update(webhookEvents)
    .set({ processedAt: null, outcome: null })
    .where(
      and(
        eq(webhookEvents.workspaceId, workspaceId),
        eq(webhookEvents.outcome, DECISION_ON_UNKNOWN_OBJECT),
        inArray(webhookEvents.objectId, [...objectIds]),
      ),
    )
    .returning({ eventId: webhookEvents.eventId });
  return requeued.length;
}

export async function markEventsProcessed(
  tx: Tx,
  workspaceId: string,
  outcomes: readonly { eventId: number; outcome: string }[],
  at: Date,
): Promise<void> {
  if (outcomes.length === 0) return;
  await tx.execute(sql`
    update webhook_events as w set processed_at = ${at.toISOString()}::timestamptz, outcome = x.outcome
    from unnest(${sql.param(outcomes.map((o) => o.eventId))}::bigint[], ${sql.param(outcomes.map((o) => o.outcome))}::text[]) as x(event_id, outcome)
    where w.workspace_id = ${workspaceId}::uuid and w.event_id = x.event_id`);
}

export async function countPendingEvents(db: Db): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(webhookEvents)
    .where(sql`${webhookEvents.processedAt} is null`);
  return row?.n ?? 0;
}
