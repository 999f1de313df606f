import { and, eq, isNull, sql } from 'drizzle-orm';
import type { CrmChangeBatch } from '../../../shared/crm-change-events.ts';
import type { CrmVendor } from '../../../shared/crm-names.ts';
import { crmEventStreamPositions, crmEventStreams } from './crm-event-stream-schema.ts';
import type { Db } from './database.ts';
import { changeSets, changes, crmConnections, webhookEvents, workspaces } from './schema.ts';

/** The subscription type a streamed change is stored under beside HubSpot's webhook events. */
export const STREAMED_CHANGE_TYPE = 'crm.streamedChange';
/** Events of one delivery keyed below this many per replay id, per topic (see `streamedEventId`). */
const EVENTS_PER_DELIVERY = 2 ** 16;
const TOPICS = 2 ** 3;

/**
 * Takes (or renews) the workspace's stream lease for `holder` unless another holder's lease is
 * still running, and only while the workspace (not removed) still has the connection streamed.
 */
export async function claimStreamLease(
  db: Db,
  claim: {
    workspaceId: string;
    holder: string;
    now: Date;
    leaseMs: number;
    connection: { crm: CrmVendor; accountId: string };
  },
): Promise<'claimed' | 'held_elsewhere' | 'disconnected'> {
  const until = new Date(claim.now.getTime() + claim.leaseMs);
  return db.transaction(async (tx) => {
    // The workspace's row orders a claim with a disconnection (issue 20), which locks it to delete
    // the connection and the lease together: a claim after it finds no connection, one before it
    // has its lease deleted, so a follower that listed the workspace just before stores nothing.
    const [connected] = await tx
      .select({ id: workspaces.id })
      .from(workspaces)
      .innerJoin(
        crmConnections,
        and(
          eq(crmConnections.workspaceId, workspaces.id),
          eq(crmConnections.crm, claim.connection.crm),
          eq(crmConnections.accountId, claim.connection.accountId),
        ),
      )
      .where(and(eq(workspaces.id, claim.workspaceId), isNull(workspaces.removedAt)))
      .for('share', { of: workspaces });
    if (!connected) return 'disconnected';
    const rows = await tx
      .insert(crmEventStreams)
      .values({
        workspaceId: claim.workspaceId,
        leaseHolder: claim.holder,
        leaseExpiresAt: until,
        updatedAt: claim.now,
      })
      .onConflictDoUpdate({
        target: crmEventStreams.workspaceId,
        set: { leaseHolder: claim.holder, leaseExpiresAt: until, updatedAt: claim.now },
        setWhere: sql`${crmEventStreams.leaseHolder} is null or ${crmEventStreams.leaseHolder} = ${claim.holder} or ${crmEventStreams.leaseExpiresAt} < ${claim.now.toISOString()}::timestamptz`,
      })
      .returning({ holder: crmEventStreams.leaseHolder });
    return rows.length === 1 ? 'claimed' : 'held_elsewhere';
  });
}

/**
 * Renews `holder`'s lease, never making the row again: a row gone (the org disconnected, issue 20)
 * or taken by another holder ends the stream as a lost lease.
 */
export async function renewStreamLease(
  db: Db,
  renewal: { workspaceId: string; holder: string; now: Date; leaseMs: number },
): Promise<boolean> {
  const rows = await db
    .update(crmEventStreams)
    .set({ leaseExpiresAt: new Date(renewal.now.getTime() + renewal.leaseMs), updatedAt: renewal.now })
    .where(and(eq(crmEventStreams.workspaceId, renewal.workspaceId), eq(crmEventStreams.leaseHolder, renewal.holder)))
    .returning({ holder: crmEventStreams.leaseHolder });
  return rows.length === 1;
}

export async function releaseStreamLease(db: Db, workspaceId: string, holder: string, now: Date): Promise<void> {
  await db
    .update(crmEventStreams)
    .set({ leaseHolder: null, leaseExpiresAt: null, updatedAt: now })
    .where(and(eq(crmEventStreams.workspaceId, workspaceId), eq(crmEventStreams.leaseHolder, holder)));
}

/** Where each topic of the workspace's stream resumes. */
export async function readStreamPositions(db: Db, workspaceId: string): Promise<Map<string, string>> {
  const rows = await db
    .select({ topic: crmEventStreamPositions.topic, replayId: crmEventStreamPositions.replayId })
    .from(crmEventStreamPositions)
    .where(eq(crmEventStreamPositions.workspaceId, workspaceId));
  return new Map(rows.map((row) => [row.topic, row.replayId]));
}

export class StreamLeaseLostError extends Error {}

/**
 * Stores a delivery's events as webhook events to process, and moves the topic's position past
 * it, in one transaction, only while `holder` still holds the lease: a server that lost it
 * (paused past its lease while another took over) stores nothing. A delivery stored before
 * (replayed after a crash between the CRM's send and this commit) adds nothing.
 */
export async function storeStreamBatch(
  db: Db,
  input: { workspaceId: string; holder: string; topicIndex: number; batch: CrmChangeBatch; now: Date },
): Promise<number> {
  const { workspaceId, batch, now } = input;
  return db.transaction(async (tx) => {
    const [lease] = await tx
      .select({ holder: crmEventStreams.leaseHolder })
      .from(crmEventStreams)
      .where(eq(crmEventStreams.workspaceId, workspaceId))
      .for('update');
    if (lease?.holder !== input.holder)
      throw new StreamLeaseLostError('another server holds the change stream of this workspace now');
    let stored = 0;
    if (batch.events.length > 0) {
      const rows = batch.events.map((event, index) => ({
        workspaceId,
        eventId: streamedEventId(batch.sequence, input.topicIndex, index),
        subscriptionType: STREAMED_CHANGE_TYPE,
        objectId: event.recordId,
        propertyName: event.property,
        propertyValue: event.value,
        changeSource: event.source,
        sourceId: event.sourceId,
        occurredAt: event.occurredAt,
        receivedAt: now,
        payload: { ...event, occurredAt: event.occurredAt.toISOString(), topic: batch.topic },
      }));
      const inserted = await tx
        .insert(webhookEvents)
        .values(rows)
        .onConflictDoNothing()
        .returning({ eventId: webhookEvents.eventId });
      stored = inserted.length;
    }
    await tx
      .insert(crmEventStreamPositions)
      .values({ workspaceId, topic: batch.topic, replayId: batch.position, updatedAt: now })
      .onConflictDoUpdate({
        target: [crmEventStreamPositions.workspaceId, crmEventStreamPositions.topic],
        set: { replayId: batch.position, updatedAt: now },
      });
    return stored;
  });
}

/**
 * A streamed event's key among the workspace's webhook events: negative, so it never meets one
 * of HubSpot's (positive) event ids, and ordered as the stream is, and built from the delivery's replay id, the topic and the
 * event's place in the delivery, so a replayed delivery finds its events already stored.
 */
export function streamedEventId(sequence: bigint, topicIndex: number, index: number): number {
  if (index >= EVENTS_PER_DELIVERY) throw new Error(`a delivery of more than ${EVENTS_PER_DELIVERY} changes`);
  const id = (sequence * BigInt(TOPICS) + BigInt(topicIndex)) * BigInt(EVENTS_PER_DELIVERY) + BigInt(index);
  if (id > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`replay id ${sequence} is too large to key its events`);
  // Below zero and rising with the replay id, so events of one instant keep the stream's order.
  return Number(id) - Number.MAX_SAFE_INTEGER - 1;
}

/**
 * The properties we governed on records (an applied write or one held for approval): what a
 * gap in the change stream makes us read again. `recordIds` null: every such record of the
 * object type (an overflow lost the changes of a whole transaction).
 */
export async function governedPropertiesOfRecords(
  db: Db,
  input: { workspaceId: string; objectType: string; recordIds: readonly string[] | null },
): Promise<Map<string, string[]>> {
  const records =
    input.recordIds === null ? sql`true` : sql`c.record_id = any(${sql.param([...input.recordIds])}::text[])`;
  const result = await db.execute(sql`
    select distinct c.record_id, c.property from ${changes} as c
    join ${changeSets} as s on s.id = c.change_set_id
    where c.workspace_id = ${input.workspaceId}::uuid and s.object_type = ${input.objectType}
      and c.decision in ('applied', 'pending_approval') and ${records}`);
  const found = new Map<string, string[]>();
  for (const row of (result as unknown as { rows: { record_id: string; property: string }[] }).rows)
    found.set(row.record_id, [...(found.get(row.record_id) ?? []), row.property]);
  return found;
}
