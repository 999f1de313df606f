import { and, asc, eq, gt, gte, lte, type SQL } from 'drizzle-orm';
import {
  ChainLinker,
  GENESIS_HASH,
  type ChainedAuditEvent,
  type JsonObject,
  type NewAuditEvent,
} from '../domain/audit-chain.ts';
import { AppError } from '../errors.ts';
import { insertRows } from './bulk-insert.ts';
import type { Db, Tx } from './database.ts';
import { InFlight } from './in-flight.ts';
import { auditEvents, auditHeads } from './schema.ts';

export interface AuditAppender {
  append(event: NewAuditEvent): void;
  /**
   * Appends many events, hashing them in slices and sending each slice's insert before hashing
   * the next, so Postgres stores one slice (and the transaction's other queued rows) while we hash.
   */
  appendAll(events: Iterable<NewAuditEvent>): Promise<void>;
}

// Small enough that the loop turns every few ms, writing what was sent while Postgres works.
const EVENTS_PER_SLICE = 100;

export async function createAuditHead(tx: Db | Tx, workspaceId: string): Promise<void> {
  await tx.insert(auditHeads).values({ workspaceId, seq: 0, hash: GENESIS_HASH });
}

/**
 * Locks the workspace's chain head for the rest of the transaction and collects events to append.
 * Everything that must be decided in order (caps, policy versions, chain links) happens under this lock.
 */
export async function lockAuditChain(
  tx: Tx,
  workspaceId: string,
  now: () => Date,
): Promise<AuditAppender & { flush(): Promise<void> }> {
  const [head] = await tx.select().from(auditHeads).where(eq(auditHeads.workspaceId, workspaceId)).for('update');
  if (!head) throw new AppError('NOT_FOUND', `Workspace ${workspaceId} does not exist.`);
  // One timestamp per transaction: every event of it happened at once, as far as the log is concerned.
  const chain = new ChainLinker({ workspaceId, occurredAt: now(), head });
  const pending: ReturnType<typeof eventRow>[] = [];
  // Inserts already sent while more events are hashed; a failure surfaces from flush.
  const inFlight = new InFlight();
  const send = () => {
    if (pending.length > 0) inFlight.send(insertRows(tx, 'audit_events', pending.splice(0)));
  };
  const append = (event: NewAuditEvent) => {
    pending.push(eventRow(chain.link(event)));
  };
  return {
    append,
    appendAll: async (events) => {
      let inSlice = 0;
      for (const event of events) {
        if (inSlice++ % EVENTS_PER_SLICE === 0) {
          send();
          await inFlight.deliver();
        }
        append(event);
      }
    },
    flush: async () => {
      send();
      if (inFlight.count === 0) return;
      await inFlight.settled();
      await tx.update(auditHeads).set(chain.head).where(eq(auditHeads.workspaceId, workspaceId));
    },
  };
}

/** One transaction holding the chain lock: `work` runs, then what it appended is stored. */
export async function withAuditChain<T>(
  db: Db,
  workspaceId: string,
  now: () => Date,
  work: (tx: Tx, audit: AuditAppender) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    const chain = await lockAuditChain(tx, workspaceId, now);
    const result = await work(tx, chain);
    await chain.flush();
    return result;
  });
}

function eventRow(event: ChainedAuditEvent) {
  return {
    workspace_id: event.workspaceId,
    seq: event.seq,
    occurred_at: event.occurredAt,
    type: event.type,
    actor: event.actor,
    agent_id: event.agentId,
    batch_id: event.batchId,
    change_set_id: event.changeSetId,
    object_type: event.objectType,
    record_id: event.recordId,
    property: event.property,
    before: event.before,
    after: event.after,
    evidence: event.evidence,
    reasons: event.reasons,
    policy_version: event.policyVersion,
    data: event.data,
    prev_hash: event.prevHash,
    hash: event.hash,
  };
}

export async function readAuditHead(db: Db | Tx, workspaceId: string): Promise<{ seq: number; hash: string }> {
  const [head] = await db
    .select({ seq: auditHeads.seq, hash: auditHeads.hash })
    .from(auditHeads)
    .where(eq(auditHeads.workspaceId, workspaceId));
  if (!head) throw new AppError('NOT_FOUND', `Workspace ${workspaceId} does not exist.`);
  return head;
}

export interface AuditFilter {
  agentId?: string | undefined;
  batchId?: string | undefined;
  recordId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export type StoredAuditEvent = ChainedAuditEvent;

/**
 * Pages through events in chain order by keyset (seq > after), so verify and export stream a log of
 * any size in constant memory on both PGlite and Postgres.
 */
export async function* streamAuditEvents(
  db: Db,
  workspaceId: string,
  filter: AuditFilter = {},
  pageSize = 1_000,
): AsyncGenerator<StoredAuditEvent> {
  let after = 0;
  for (;;) {
    const conditions: SQL[] = [eq(auditEvents.workspaceId, workspaceId), gt(auditEvents.seq, after)];
    if (filter.agentId) conditions.push(eq(auditEvents.agentId, filter.agentId));
    if (filter.batchId) conditions.push(eq(auditEvents.batchId, filter.batchId));
    if (filter.recordId) conditions.push(eq(auditEvents.recordId, filter.recordId));
    if (filter.from) conditions.push(gte(auditEvents.occurredAt, filter.from));
    if (filter.to) conditions.push(lte(auditEvents.occurredAt, filter.to));
    const page = await db
      .select()
      .from(auditEvents)
      .where(and(...conditions))
      .orderBy(asc(auditEvents.seq))
      .limit(pageSize);
    for (const row of page) {
      yield {
        ...row,
        occurredAt: row.occurredAt.toISOString(),
        actor: row.actor as JsonObject,
        before: row.before as JsonObject | null,
        after: row.after as JsonObject | null,
        evidence: row.evidence as JsonObject | null,
        data: row.data as JsonObject | null,
      };
    }
    const last = page.at(-1);
    if (!last || page.length < pageSize) return;
    after = last.seq;
  }
}
