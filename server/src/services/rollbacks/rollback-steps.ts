import type { CrmPort } from '../../crm/port.ts';
import {
  nextUnsettledItems,
  nextUnsettledObjectType,
  type RollbackRow,
  type StepItem,
} from '../../store/rollback-store.ts';
import { type ServiceDeps, alongsideCrm, newId } from '../common/index.ts';
import {
  abortStagedStep,
  isStagedWriteOf,
  markStep,
  readStep,
  stageStep,
  writeStep,
  type Decided,
  type MarkedStep,
  type StagedStep,
} from './rollback-step.ts';

/**
 * What `next` gives: a step read and marked (now, or while the step before was written), `end`
 * when a pass ends, `refused` when the mark found the rollback no longer running
 * for us (paused, or taken over), `held` when `mayGoOn` said no before a mark (nothing was marked).
 */
export type NextStep = { marked: MarkedStep } | 'end' | 'refused' | 'held';

/**
 * A rollback's steps in order, each read → mark → write → record, overlapped so that the CRM's
 * latency and rate limit, not our database, set the pace: while a step's CRM write is in flight,
 * the next step is read (CRM and database), the step before is recorded, then the next step is
 * marked and the page after it found, so the next write can start as soon as this one ends (the
 * caller checks kill switches and pause again right before it). They touch different items (the
 * cursor moves on); the next read still comes right before its write, one CRM call earlier. Once
 * read, its write is staged too (a Salesforce Bulk job opened and uploaded, nothing written until
 * it is closed) while it is marked, so only its commit waits for the mark and the write before it;
 * a step not written after all (stopped, refused) has its staged write aborted. On PGlite every statement runs on this
 * thread, one at a time, so the order matters: the write's request first, then the next read's,
 * and only once they have left the database work.
 */
export class RollbackSteps {
  private readonly deps: ServiceDeps;
  private readonly rollback: RollbackRow;
  private readonly holder: string;
  private readonly crm: CrmPort;
  /** Asked before each mark: false while a kill switch is engaged, the lease is lost or the process stops. */
  private readonly mayGoOn: () => Promise<boolean>;
  private afterSeq = -1;
  /** The items of the step after the last one marked, found once it was marked. */
  private following: StepItem[] | undefined;
  /** The next step, read and marked while the last one was written. */
  private ahead: Promise<NextStep> | undefined;
  /** The last written step's outcomes, recorded while the next step's write is in flight. */
  private unrecorded: (() => Promise<void>) | undefined;
  private recording: Promise<void> = Promise.resolve();
  /**
   * The rollback's change set of each object type, which a staged write names in its provenance:
   * for a type with none yet, the id its first mark with a write gives the one it creates.
   */
  private readonly changeSetIds: Record<string, string>;
  /** The write of the step marked last, staged before its mark. */
  private staged: StagedStep | undefined;

  constructor(
    deps: ServiceDeps,
    run: { rollback: RollbackRow; holder: string; crm: CrmPort; mayGoOn: () => Promise<boolean> },
  ) {
    this.deps = deps;
    this.rollback = run.rollback;
    this.holder = run.holder;
    this.crm = run.crm;
    this.mayGoOn = run.mayGoOn;
    this.changeSetIds = { ...(run.rollback.changeSetIds as Record<string, string>) };
  }

  /** The next step: marked already if the last write started it, otherwise read and marked now. */
  async next(): Promise<NextStep> {
    const ahead = this.ahead;
    this.ahead = undefined;
    if (ahead) return ahead;
    if (!(await this.mayGoOn())) return 'held';
    const items = await this.nextPage();
    if (!items) return 'end';
    const [decided, following] = await alongsideCrm(this.read(items), () => this.nextPage());
    this.stage(decided);
    const marked = await this.mark(decided);
    this.following = following;
    if (marked) return { marked };
    await this.dropStaged();
    return 'refused';
  }

  /** After a pass, starts another if the pass passed items by (a 207 rejection puts an item back behind the cursor). */
  startAnotherPass(): boolean {
    if (this.afterSeq === -1) return false;
    this.afterSeq = -1;
    return true;
  }

  /**
   * Writes a marked step; while it is in flight, reads the next step, records the one before,
   * then marks the next. Gives back the recording of this step's outcomes, for `record`.
   */
  async write(marked: MarkedStep): Promise<() => Promise<void>> {
    const staged = this.staged;
    this.staged = undefined;
    const ofThisStep = staged && isStagedWriteOf(staged, marked) ? staged : undefined;
    if (staged && !ofThisStep) void abortStagedStep(staged).catch(() => undefined);
    const writing = writeStep(this.deps, { rollback: this.rollback, crm: this.crm }, marked, ofThisStep);
    const next = this.following;
    this.following = undefined;
    const reading = next ? this.read(next) : Promise.resolve(undefined);
    reading.catch(() => undefined); // awaited once the write's request has left, by markAhead
    const [recording] = await alongsideCrm(writing, () => {
      this.startRecording();
      this.ahead = this.markAhead(next, reading, this.recording);
      this.ahead.catch(() => undefined); // awaited by the next `next`, or when stopping
    });
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

  /** Leaves nothing behind, whatever ended the run: a step being marked ahead is waited out, the last outcomes recorded. */
  async drain(): Promise<void> {
    await this.ahead?.catch(() => undefined);
    this.ahead = undefined;
    await this.dropStaged();
    await this.recorded();
  }

  /**
   * The next step, marked once its read is decided and the step before is recorded (one
   * transaction at a time). If `mayGoOn` says no, nothing is marked and the cursor goes back
   * before these items, so a run that goes on after all reads them again.
   */
  private async markAhead(
    items: StepItem[] | undefined,
    reading: Promise<Decided[] | undefined>,
    recordingBefore: Promise<void>,
  ): Promise<NextStep> {
    const decided = await reading;
    if (decided) this.stage(decided); // its calls go out while the write before is in flight
    await recordingBefore.catch(() => undefined); // its failure is thrown by `record`
    if (!items || !decided) return 'end';
    if (!(await this.mayGoOn())) {
      this.afterSeq = items[0]!.seq - 1;
      await this.dropStaged();
      return 'held';
    }
    const marked = await this.mark(decided);
    if (!marked) {
      await this.dropStaged();
      return 'refused';
    }
    this.following = await this.nextPage();
    return { marked };
  }

  private async mark(decided: Decided[]): Promise<MarkedStep | undefined> {
    const newChangeSetId = this.changeSetIdOf(decided);
    const marked = await markStep(this.deps, { rollback: this.rollback, holder: this.holder, newChangeSetId }, decided);
    if (marked?.changeSetId) this.changeSetIds[marked.objectType] = marked.changeSetId;
    return marked;
  }

  /** Stages the write of a step just read (the step is then marked). */
  private stage(decided: Decided[]): void {
    const changeSetId = this.changeSetIdOf(decided);
    this.staged = stageStep(this.deps, { rollback: this.rollback, crm: this.crm }, decided, changeSetId);
  }

  private changeSetIdOf(decided: Decided[]): string {
    const objectType = decided[0]!.item.objectType;
    this.changeSetIds[objectType] ??= newId();
    return this.changeSetIds[objectType];
  }

  private async dropStaged(): Promise<void> {
    const staged = this.staged;
    this.staged = undefined;
    if (staged) await abortStagedStep(staged);
  }

  private startRecording(): void {
    if (!this.unrecorded) return;
    this.recording = this.unrecorded();
    this.recording.catch(() => undefined); // awaited by recorded()
    this.unrecorded = undefined;
  }

  private read(items: StepItem[]): Promise<Decided[]> {
    return readStep(this.deps, { rollback: this.rollback, crm: this.crm, items });
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
