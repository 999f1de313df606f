import { retryDelayMs, isDown, siemRequest } from '../../domain/siem-delivery.ts';
import { withAuditChain } from '../../store/audit-store.ts';
import {
  auditEventsAfter,
  claimDueSiemDestination,
  recordSiemDelivered,
  recordSiemFailure,
  type SiemDestinationRow,
} from '../../store/siem-store.ts';
import type { ServiceDeps } from '../common/index.ts';

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
 * Sends one batch of audit events to one due destination (issue 22) and says how many it
 * delivered. The cursor moves only after the destination acknowledged the batch, so a crash or a
 * failed request sends the same events again (at least once, each marked by its seq), never skips.
 * One batch per claim, due destinations taken oldest-first, so a busy one does not starve the rest.
 */
export async function deliverSiemBatch(deps: ServiceDeps, delivery: SiemDelivery): Promise<SiemRound> {
  const destination = await claimDueSiemDestination(deps.db, {
    holder: delivery.holder,
    leaseMs: delivery.leaseMs,
    now: deps.clock(),
  });
  if (!destination) return { claimed: false };
  const events = await auditEventsAfter(deps.db, {
    workspaceId: destination.workspaceId,
    afterSeq: destination.cursorSeq,
    limit: delivery.eventsPerRequest,
  });
  const failure = await send(deps, destination, events, delivery.requestTimeoutMs);
  const now = deps.clock();
  if (failure === undefined) {
    const cursorSeq = events.at(-1)?.seq ?? destination.cursorSeq;
    const delivered = { id: destination.id, holder: delivery.holder, cursorSeq, now };
    if (destination.downRecordedAt === null) await recordSiemDelivered(deps.db, delivered);
    else
      await withAuditChain(deps.db, destination.workspaceId, deps.clock, async (tx, audit) => {
        if (!(await recordSiemDelivered(tx, delivered))) return;
        audit.append({ type: 'siem_destination.recovered', actor: SYSTEM_ACTOR, data: outage(destination, now) });
      });
    return { claimed: true, delivered: events.length };
  }
  const failed = {
    id: destination.id,
    holder: delivery.holder,
    error: failure,
    now,
    nextAttemptAt: new Date(now.getTime() + retryDelayMs(destination.attempts + 1, delivery.retryMaxMs)),
  };
  const failingSince = destination.failingSince ?? now;
  const newlyDown =
    destination.downRecordedAt === null &&
    isDown({ failingSince, downAfterSeconds: destination.downAfterSeconds, now });
  if (!newlyDown) await recordSiemFailure(deps.db, { ...failed, downRecorded: false });
  else
    await withAuditChain(deps.db, destination.workspaceId, deps.clock, async (tx, audit) => {
      await recordSiemFailure(tx, { ...failed, downRecorded: true });
      audit.append({
        type: 'siem_destination.down',
        actor: SYSTEM_ACTOR,
        data: { ...outage(destination, now), failingSince: failingSince.toISOString(), lastError: failure },
      });
    });
  return { claimed: true, delivered: 0 };
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
async function send(
  deps: ServiceDeps,
  destination: SiemDestinationRow,
  events: Awaited<ReturnType<typeof auditEventsAfter>>,
  timeoutMs: number,
): Promise<string | undefined> {
  const request = siemRequest({
    kind: destination.kind,
    url: destination.url,
    secret: destination.secretEnc === null ? undefined : deps.secrets.open(destination.secretEnc),
    workspaceId: destination.workspaceId,
    events,
    now: deps.clock(),
  });
  try {
    const response = await fetch(destination.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Drained so the connection goes back to the pool; the receiver's answer is not kept (it may echo data).
    await response.arrayBuffer();
    return response.ok ? undefined : `HTTP ${response.status} from the destination`;
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause;
    const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
    return `${(error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'request failed'}${code}`;
  }
}
