import { retryDelayMs, isDown, type SiemRequest, siemRequest } from '../../domain/siem-delivery.ts';
import {
  checkpointsBetween,
  claimDueSiemDestination,
  recordSiemDelivered,
  recordSiemFailure,
  streamedEventsBetween,
  type SiemDestinationRow,
} from '../../store/siem-store.ts';
import { type DeliveryFailure, deliveryFailure, type ServiceDeps, withAuditChain } from '../common/index.ts';

export interface SiemDelivery {
  /** Names this process in the destinations' leases. */
  holder: string;
  /** How long a claimed destination stays this server's; longer than `requestTimeoutMs`. */
  leaseMs: number;
  requestTimeoutMs: number;
  /** The longest wait between attempts at a failing destination. */
  retryMaxMs: number;
  eventsPerRequest: number;
}

const SYSTEM_ACTOR = { type: 'system', name: 'siem-delivery' } as const;

export type SiemRound = { claimed: false } | { claimed: true; delivered: number };

/**
 * Requests sent per claim: enough that the next batch is read and encoded while the receiver takes
 * the current one, few enough that other due destinations soon get their turn.
 */
const REQUESTS_PER_CLAIM = 5;

/** One request ready to go: its events are the chain's seqs after the previous batch's, up to `cursorSeq`. */
interface PreparedBatch {
  events: number;
  cursorSeq: number;
  checkpointCursorSeq: number;
  request: SiemRequest;
}

/**
 * Sends audit events to one due destination (issue 22), a batch per request, and says how many it
 * delivered. The cursor moves only after the destination acknowledged a batch, so a crash or a
 * failed request sends the same events again (at least once, each marked by its seq), never skips.
 * While a batch is on the wire the next one is read and encoded; it goes only once the one before
 * was acknowledged and the lease renewed, else it is dropped, so batches leave strictly in order
 * and only while this server holds the destination.
 * Due destinations are taken oldest-first, a few requests each, so a busy one does not starve the rest.
 * `stopWhen` ends the claim after the request in hand (the lease given back), so agents' requests
 * that arrive meanwhile wait for one batch at most.
 */
export async function deliverToDueSiemDestination(
  deps: ServiceDeps,
  delivery: SiemDelivery,
  control: { stopWhen?: () => boolean } = {},
): Promise<SiemRound> {
  const stop = () => control.stopWhen?.() ?? false;
  const claimed = await claimDueSiemDestination(deps.db, {
    holder: delivery.holder,
    leaseMs: delivery.leaseMs,
    now: deps.clock(),
  });
  if (!claimed) return { claimed: false };
  const { destination, headSeq } = claimed;
  const secret = destination.secretEnc === null ? undefined : deps.secrets.open(destination.secretEnc);
  const prepare = async (after: { cursorSeq: number; checkpointCursorSeq: number }): Promise<PreparedBatch> => {
    // The events up to the head as claimed, and the checkpoints signed up to this batch's last event.
    const cursorSeq = Math.max(after.cursorSeq, Math.min(after.cursorSeq + delivery.eventsPerRequest, headSeq));
    const range = { workspaceId: destination.workspaceId, uptoSeq: cursorSeq };
    const [events, checkpoints] = await Promise.all([
      streamedEventsBetween(deps.db, { ...range, afterSeq: after.cursorSeq }),
      checkpointsBetween(deps.db, { ...range, afterSeq: after.checkpointCursorSeq }),
    ]);
    const request = siemRequest({
      kind: destination.kind,
      url: destination.url,
      secret,
      workspaceId: destination.workspaceId,
      events,
      checkpoints,
      now: deps.clock(),
    });
    return {
      events: events.length,
      cursorSeq,
      checkpointCursorSeq: checkpoints.at(-1)?.seq ?? after.checkpointCursorSeq,
      request,
    };
  };
  const ahead = (after: PreparedBatch) => {
    const next = prepare(after);
    // Marked handled now: a read failing while a request is on the wire surfaces when it is awaited.
    next.catch(() => {});
    return next;
  };
  let next = prepare(destination);
  let delivered = 0;
  let downRecorded = destination.downRecordedAt !== null;
  for (let request = 1; request <= REQUESTS_PER_CLAIM; request++) {
    const batch = await next;
    const more = batch.cursorSeq < headSeq && request < REQUESTS_PER_CLAIM && !stop();
    if (more) next = ahead(batch);
    const failure = await post(deps, destination.url, batch.request, delivery.requestTimeoutMs);
    if (failure !== undefined) {
      // After a success in this claim the destination is no longer failing: the backoff starts afresh.
      const before =
        delivered > 0
          ? { attempts: 0, failingSince: null }
          : { attempts: destination.attempts, failingSince: destination.failingSince };
      await recordFailure(deps, destination, { delivery, failure, downRecorded, ...before });
      return { claimed: true, delivered };
    }
    // Asked again: a stop that came while the batch was on the wire drops the one read ahead.
    const goOn = more && !stop();
    const now = deps.clock();
    const acknowledged = {
      id: destination.id,
      holder: delivery.holder,
      cursorSeq: batch.cursorSeq,
      checkpointCursorSeq: batch.checkpointCursorSeq,
      now,
      leaseExpiresAt: goOn ? new Date(now.getTime() + delivery.leaseMs) : null,
    };
    let held: boolean;
    if (!downRecorded) held = await recordSiemDelivered(deps.db, acknowledged);
    else
      held = await withAuditChain(deps.db, destination.workspaceId, deps.clock, async (tx, audit) => {
        if (!(await recordSiemDelivered(tx, acknowledged))) return false;
        audit.append({ type: 'siem_destination.recovered', actor: SYSTEM_ACTOR, data: outage(destination, now) });
        return true;
      });
    downRecorded = false;
    delivered += batch.events;
    // A lost lease means another server sends from the cursor now; stop rather than send twice.
    if (!goOn || !held) return { claimed: true, delivered };
  }
  return { claimed: true, delivered };
}

async function recordFailure(
  deps: ServiceDeps,
  destination: SiemDestinationRow,
  options: {
    delivery: SiemDelivery;
    failure: DeliveryFailure;
    downRecorded: boolean;
    attempts: number;
    failingSince: Date | null;
  },
): Promise<void> {
  const { delivery, failure } = options;
  const now = deps.clock();
  const failed = {
    id: destination.id,
    holder: delivery.holder,
    error: failure.message,
    now,
    nextAttemptAt: new Date(now.getTime() + retryDelayMs(options.attempts + 1, delivery.retryMaxMs, failure.askedMs)),
  };
  const failingSince = options.failingSince ?? now;
  const newlyDown =
    !options.downRecorded && isDown({ failingSince, downAfterSeconds: destination.downAfterSeconds, now });
  if (!newlyDown) await recordSiemFailure(deps.db, { ...failed, downRecorded: false });
  else
    await withAuditChain(deps.db, destination.workspaceId, deps.clock, async (tx, audit) => {
      await recordSiemFailure(tx, { ...failed, downRecorded: true });
      audit.append({
        type: 'siem_destination.down',
        actor: SYSTEM_ACTOR,
        data: { ...outage(destination, now), failingSince: failingSince.toISOString(), lastError: failure.message },
      });
    });
}

function outage(destination: SiemDestinationRow, now: Date) {
  return {
    id: destination.id,
    name: destination.name,
    kind: destination.kind,
    cursorSeq: destination.cursorSeq,
    at: now.toISOString(),
  };
}

/** Undefined when the destination acknowledged the batch (any 2xx), else why not, in one line for the status. */
async function post(
  deps: ServiceDeps,
  url: string,
  request: SiemRequest,
  timeoutMs: number,
): Promise<DeliveryFailure | undefined> {
  // Only the configured URL acknowledges: a redirect is not followed (a proxy's sign-in page, another
  // host, plain http would answer 2xx for events the destination never had), so a 3xx is a failure.
  return deliveryFailure(await deps.outbound.post(url, request, timeoutMs), 'the destination', deps.clock());
}
