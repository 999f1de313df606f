import { ChainLinker, type NewAuditEvent } from '../../domain/audit-chain.ts';
import { insertAuditEvents, lockAuditHead, saveAuditHead } from '../../store/audit-store.ts';
import type { Db, Tx } from '../../store/database.ts';
import { InFlight } from '../../store/in-flight.ts';

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

/**
 * Locks the workspace's chain head for the rest of the transaction and collects events to append.
 * Everything that must be decided in order (caps, policy versions, chain links) happens under this lock.
 */
export async function lockAuditChain(
  tx: Tx,
  workspaceId: string,
  now: () => Date,
): Promise<AuditAppender & { flush(): Promise<void> }> {
  const head = await lockAuditHead(tx, workspaceId);
  // One timestamp per transaction: every event of it happened at once, as far as the log is concerned.
  const chain = new ChainLinker({ workspaceId, occurredAt: now(), head });
  const pending: ReturnType<ChainLinker['link']>[] = [];
  // Inserts already sent while more events are hashed; a failure surfaces from flush.
  const inFlight = new InFlight();
  const send = () => {
    if (pending.length > 0) inFlight.send(insertAuditEvents(tx, pending.splice(0)));
  };
  const append = (event: NewAuditEvent) => {
    pending.push(chain.link(event));
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
      await saveAuditHead(tx, workspaceId, chain.head);
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
