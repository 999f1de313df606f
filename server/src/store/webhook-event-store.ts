import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
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

/**
 * Stores a delivery whole, one row, before the answer: the body travels once as the jsonb
 * parameter Postgres parses a single time. Its events are split into `webhook_events` behind the
 * answer (`splitWebhookDeliveries`): storing them as 100 indexed rows here held intake to half the
 * events per second of storing the one row (docs/operations.md, Webhook intake).
 */
export async function storeWebhookDelivery(db: Db, delivery: WebhookDelivery): Promise<void> {
  if (delivery.events.length === 0) return;
  const [first] = delivery.events;
  // The usual delivery: every element, one portal's workspace.
  const wholeBody =
    delivery.events.length === delivery.elementCount &&
    delivery.events.every((event, index) => event.index === index && event.workspaceId === first!.workspaceId);
  const elements = wholeBody
    ? sql`${first!.workspaceId}::uuid, null, null`
    : sql`null, ${sql.param(delivery.events.map((event) => event.index))}::integer[], ${sql.param(delivery.events.map((event) => event.workspaceId))}::uuid[]`;
  await db.execute(sql`
    insert into webhook_deliveries (received_at, body, workspace_id, element_indexes, element_workspaces)
    values (${delivery.receivedAt.toISOString()}::timestamptz, ${delivery.body}::jsonb, ${elements})`);
}

/**
 * Splits up to `limit` stored deliveries, oldest first, into webhook events and deletes them, in
 * one statement: a crash at any moment leaves each delivery either whole or split, never both.
 * SKIP LOCKED lets several workers split different deliveries at once; an event already stored
 * (HubSpot retried the delivery) is skipped, and rows go in key order so two workers storing the
 * same events wait on each other in the same order rather than deadlock. Returns how many
 * deliveries were split.
 */
export async function splitWebhookDeliveries(db: Db, limit: number, onlyId?: number): Promise<number> {
  const result = await db.execute(sql`
    with claimed as (
      select id, received_at, body, workspace_id, element_indexes, element_workspaces from webhook_deliveries
      where split_problem is null ${onlyId === undefined ? sql`` : sql`and id = ${onlyId}`}
      order by id limit ${limit} for update skip locked
    ), elements as (
      select c.received_at, c.workspace_id, element.e from claimed as c
        cross join jsonb_array_elements(c.body) as element(e) where c.workspace_id is not null
      union all
      select c.received_at, x.workspace_id, c.body -> x.index from claimed as c
        cross join unnest(c.element_indexes, c.element_workspaces) as x(index, workspace_id) where c.workspace_id is null
    ), stored as (
      insert into webhook_events (workspace_id, event_id, subscription_type, object_id, property_name, property_value, change_source, source_id, occurred_at, received_at, payload)
      select workspace_id, (e->>'eventId')::bigint, e->>'subscriptionType', e->>'objectId', e->>'propertyName', e->>'propertyValue', e->>'changeSource', e->>'sourceId',
             to_timestamp((e->>'occurredAt')::numeric / 1000), received_at, e
      from elements order by workspace_id, (e->>'eventId')::bigint
      on conflict do nothing
    ), removed as (
      delete from webhook_deliveries where id in (select id from claimed) returning id
    )
    select count(*)::int as n from removed`);
  return (result as unknown as { rows: { n: number }[] }).rows[0]?.n ?? 0;
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

/** The oldest deliveries waiting to be split, by id. */
export async function deliveriesToSplit(db: Db, limit: number): Promise<number[]> {
  const result = await db.execute(
    sql`select id::float8 as id from webhook_deliveries where split_problem is null order by id limit ${limit}`,
  );
  return (result as unknown as { rows: { id: number }[] }).rows.map((row) => row.id);
}

/** Leaves a delivery that cannot be split aside, with why, so the deliveries after it are split. */
export async function setDeliveryAside(db: Db, id: number, problem: string): Promise<void> {
  await db.execute(sql`update webhook_deliveries set split_problem = ${problem} where id = ${id}`);
}

/** Events waiting: those stored and not processed, and those of deliveries not split yet (retries counted again). */
export async function countPendingEvents(db: Db): Promise<number> {
  const result = await db.execute(sql`
    select (select count(*) from webhook_events where processed_at is null)
         + (select coalesce(sum(coalesce(cardinality(element_indexes), case jsonb_typeof(body) when 'array' then jsonb_array_length(body) end)), 0) from webhook_deliveries where split_problem is null)
      as n`);
  return Number((result as unknown as { rows: { n: number | string }[] }).rows[0]?.n ?? 0);
}
