import { and, asc, eq, gt, gte, lte, type SQL } from 'drizzle-orm';
import { GENESIS_HASH, hashAuditEvent, type AuditEventContent, type JsonObject } from '../domain/audit-chain.ts';
import { AppError } from '../errors.ts';
import { insertRows } from './bulk-insert.ts';
import type { Db, Tx } from './database.ts';
import { InFlight } from './in-flight.ts';
import { auditEvents, auditHeads } from './schema.ts';

export interface NewAuditEvent {
  type: string;
  actor: JsonObject;
  agentId?: string | null;
  batchId?: string | null;
  changeSetId?: string | null;
  objectType?: string | null;
  recordId?: string | null;
  property?: string | null;
  before?: JsonObject | null;
  after?: JsonObject | null;
  evidence?: JsonObject | null;
  reasons?: string[];
  policyVersion?: number | null;
  data?: JsonObject | null;
}

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
export async function lockAuditChain(tx: Tx, workspaceId: string, now: () => Date): Promise<AuditAppender & { flush(): Promise<void> }> {
  const [head] = await tx.select().from(auditHeads).where(eq(auditHeads.workspaceId, workspaceId)).for('update');
  if (!head) throw new AppError('NOT_FOUND', `Workspace ${workspaceId} does not exist.`);
  // One timestamp per transaction: every event of it happened at once, as far as the log is concerned.
  const occurredAt = now().toISOString();
  let { seq, hash } = head;
  const pending: ReturnType<typeof chainedRow>[] = [];
  // Inserts already sent while more events are hashed; a failure surfaces from flush.
  const inFlight = new InFlight();
  const send = () => {
    if (pending.length > 0) inFlight.send(insertRows(tx, 'audit_events', pending.splice(0)));
  };
  const append = (event: NewAuditEvent) => {
    seq += 1;
    const row = chainedRow({ workspaceId, seq, occurredAt, prevHash: hash, event });
    hash = row.hash;
    pending.push(row);
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
      await tx.update(auditHeads).set({ seq, hash }).where(eq(auditHeads.workspaceId, workspaceId));
    },
  };
}

/** One transaction holding the chain lock: `work` runs, then what it appended is stored. */
export async function withAuditChain<T>(db: Db, workspaceId: string, now: () => Date, work: (tx: Tx, audit: AuditAppender) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    const chain = await lockAuditChain(tx, workspaceId, now);
    const result = await work(tx, chain);
    await chain.flush();
    return result;
  });
}

function chainedRow(input: { workspaceId: string; seq: number; occurredAt: string; prevHash: string; event: NewAuditEvent }) {
  const { event } = input;
  const content: AuditEventContent = {
    workspaceId: input.workspaceId,
    seq: input.seq,
    occurredAt: input.occurredAt,
    type: event.type,
    actor: event.actor,
    agentId: event.agentId ?? null,
    batchId: event.batchId ?? null,
    changeSetId: event.changeSetId ?? null,
    objectType: event.objectType ?? null,
    recordId: event.recordId ?? null,
    property: event.property ?? null,
    before: event.before ?? null,
    after: event.after ?? null,
    evidence: event.evidence ?? null,
    reasons: event.reasons ?? [],
    policyVersion: event.policyVersion ?? null,
    data: event.data ?? null,
    prevHash: input.prevHash,
  };
  return {
    workspace_id: content.workspaceId,
    seq: content.seq,
    occurred_at: content.occurredAt,
    type: content.type,
    actor: content.actor,
    agent_id: content.agentId,
    batch_id: content.batchId,
    change_set_id: content.changeSetId,
    object_type: content.objectType,
    record_id: content.recordId,
    property: content.property,
    before: content.before,
    after: content.after,
    evidence: content.evidence,
    reasons: content.reasons,
    policy_version: content.policyVersion,
    data: content.data,
    prev_hash: content.prevHash,
    hash: hashAuditEvent(content),
  };
}

export async function readAuditHead(db: Db, workspaceId: string): Promise<{ seq: number; hash: string }> {
  const [head] = await db.select({ seq: auditHeads.seq, hash: auditHeads.hash }).from(auditHeads).where(eq(auditHeads.workspaceId, workspaceId));
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

export type StoredAuditEvent = AuditEventContent & { hash: string };

/**
 * Pages through events in chain order by keyset (seq > after), so verify and export stream a log of
 * any size in constant memory on both PGlite and Postgres.
 */
export async function* streamAuditEvents(db: Db, workspaceId: string, filter: AuditFilter = {}, pageSize = 1_000): AsyncGenerator<StoredAuditEvent> {
  let after = 0;
  for (;;) {
    const conditions: SQL[] = [eq(auditEvents.workspaceId, workspaceId), gt(auditEvents.seq, after)];
    if (filter.agentId) conditions.push(eq(auditEvents.agentId, filter.agentId));
    if (filter.batchId) conditions.push(eq(auditEvents.batchId, filter.batchId));
    if (filter.recordId) conditions.push(eq(auditEvents.recordId, filter.recordId));
    if (filter.from) conditions.push(gte(auditEvents.occurredAt, filter.from));
    if (filter.to) conditions.push(lte(auditEvents.occurredAt, filter.to));
    const page = await db.select().from(auditEvents).where(and(...conditions)).orderBy(asc(auditEvents.seq)).limit(pageSize);
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
