import type { CrmPort } from '../../crm/port.ts';
import {
  nextUnsettledItems,
  nextUnsettledObjectType,
  type RollbackRow,
  type StepItem,
} from '../../store/rollback-store.ts';
import { type ServiceDeps, alongsideCrm } from '../common/index.ts';
import { readStep, writeStep, type Decided, type MarkedStep } from './rollback-step.ts';

/**
 * A rollback's steps in order, each read → mark → write → record, overlapped so that the CRM's
 * latency and rate limit, not our database, set the pace: while a step's CRM write is in flight,
 * the next step is read (CRM and database) and the step before is recorded. They touch different
 * items (the cursor moves on); the next read still comes right before its write, one CRM call
 * earlier. On PGlite every statement runs on this thread, one at a time, so the order matters:
 * the mark the write needs first, then the next page, then both CRM requests, and only once
 * they have left the database work.
 */
export class RollbackSteps {
  private readonly deps: ServiceDeps;
  private readonly rollback: RollbackRow;
  private readonly crm: CrmPort;
  private afterSeq = -1;
  private prefetched: Promise<Decided[] | undefined> | undefined;
  /** The last written step's outcomes, recorded while the next step's write is in flight. */
  private unrecorded: (() => Promise<void>) | undefined;
  private recording: Promise<void> = Promise.resolve();

  constructor(deps: ServiceDeps, rollback: RollbackRow, crm: CrmPort) {
    this.deps = deps;
    this.rollback = rollback;
    this.crm = crm;
  }

  /** The next step's items, re-read and decided (already under way if the last write started it); undefined when a pass ends. */
  async read(): Promise<Decided[] | undefined> {
    const decided = await (this.prefetched ?? this.nextPage().then((items) => this.readItems(items)));
    this.prefetched = undefined;
    return decided;
  }

  /** After a pass, starts another if the pass passed items by (a 207 rejection puts an item back behind the cursor). */
  startAnotherPass(): boolean {
    if (this.afterSeq === -1) return false;
    this.afterSeq = -1;
    return true;
  }

  /**
   * Writes a marked step; while it is in flight, reads the next step and records the one before.
   * Gives back the recording of this step's outcomes, for `record`.
   */
  async write(marked: MarkedStep): Promise<() => Promise<void>> {
    const next = await this.nextPage();
    const writing = writeStep(this.deps, { rollback: this.rollback, crm: this.crm }, marked);
    this.prefetched = this.readItems(next);
    this.prefetched.catch(() => undefined); // awaited by the next read, or when stopping
    const [recording] = await alongsideCrm(writing, () => this.startRecording());
    return recording;
  }

  /**
   * Queues a written step's outcomes to be recorded with the next write (or when stopping), once
   * the step before is recorded. One step's outcomes wait, no more: when the CRM answers faster
   * than we record (no latency), unbounded overlap queued every step's outcomes in memory and on
   * the audit chain's lock.
   */
  async record(recording: () => Promise<void>): Promise<void> {
    try {
      await this.recorded();
    } finally {
      this.unrecorded = recording; // even if the last recording failed
    }
  }

  /** Waits for what is under way and records the last step written: before stopping, and at the end of a pass. */
  async recorded(): Promise<void> {
    this.startRecording();
    await this.recording;
    this.recording = Promise.resolve();
  }

  /** Leaves nothing behind, whatever ended the run: a prefetched read is waited out, the last outcomes recorded. */
  async drain(): Promise<void> {
    await this.prefetched?.catch(() => undefined);
    await this.recorded();
  }

  private startRecording(): void {
    if (!this.unrecorded) return;
    this.recording = this.unrecorded();
    this.recording.catch(() => undefined); // awaited by recorded()
    this.unrecorded = undefined;
  }

  private readItems(items: StepItem[] | undefined): Promise<Decided[] | undefined> {
    return items ? readStep(this.deps, { rollback: this.rollback, crm: this.crm, items }) : Promise.resolve(undefined);
  }

  /**
   * The next unsettled items after the cursor, of one object type: as many records as one read and
   * one write of that type's CRM take (100 on HubSpot; 2,000 on Salesforce, whose write spreads
   * them), in a workspace of both CRMs too (issue 20).
   */
  private async nextPage(): Promise<StepItem[] | undefined> {
    const cursor = { rollbackId: this.rollback.id, afterSeq: this.afterSeq };
    const objectType = await nextUnsettledObjectType(this.deps.db, cursor);
    if (objectType === undefined) return undefined;
    const { batchLimit, readBatchLimit, writeLimit } = this.crm.forObject(objectType);
    const page = await nextUnsettledItems(this.deps.db, {
      ...cursor,
      maxRecords: Math.min(readBatchLimit ?? batchLimit, writeLimit ?? batchLimit),
      maxItems: batchLimit * 50,
    });
    const [first] = page;
    if (first === undefined) return undefined;
    const items = page.filter((item) => item.objectType === first.objectType);
    this.afterSeq = items.at(-1)!.seq;
    return items;
  }
}
