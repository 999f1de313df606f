import type { CrmChangeBatch, CrmChangeEvent } from '../../../../shared/crm-change-events.ts';
import type { CrmVendor, ObjectType } from '../../../../shared/crm-names.ts';
import type { CrmPort } from '../../crm/port.ts';
import {
  claimStreamLease,
  governedPropertiesOfRecords,
  readStreamPositions,
  releaseStreamLease,
  renewStreamLease,
  storeStreamBatch,
} from '../../store/crm-event-stream-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { requireWorkspace, type WorkspaceRow } from '../governance/index.ts';
import { listWorkspaces } from '../../store/workspace-store.ts';

/**
 * A CRM's change stream for one workspace (issue 20: Salesforce Change Data Capture), opened by
 * its adapter from the stored positions; each batch is handed over and awaited before the next.
 */
export type OpenChangeStream = (
  positions: ReadonlyMap<string, string>,
  onBatch: (batch: CrmChangeBatch, topicIndex: number) => Promise<void>,
) => Promise<{ done: Promise<void>; close(): void }>;

const DEFAULT_LEASE_MS = 60_000;

/**
 * The workspaces connected to a CRM that streams its changes (Salesforce), as their first CRM or
 * their second (issue 20), and not removed: each needs a follower. A workspace has one such org.
 */
export async function listStreamingWorkspaces(deps: ServiceDeps): Promise<WorkspaceRow[]> {
  return (await listWorkspaces(deps.db)).filter(
    (workspace) => !workspace.removedAt && workspace.connections.some((connection) => connection.crm === 'salesforce'),
  );
}

export type ChangeStreamEnd = 'held_elsewhere' | 'closed' | 'lease_lost' | 'disconnected';

/**
 * Follows the workspace's change stream while this server holds its lease (renewed as it goes;
 * another server takes over once it lapses, so two servers never both subscribe one org). Each
 * batch is stored as events for the webhook worker with the stream's position in one
 * transaction, so a restart, even after kill -9, resumes after the last stored event. Records
 * the CRM could not send changes of are read again through the CRM port, and what they hold
 * now is stored as changes the CRM made. Changes from before the workspace was connected are
 * passed over (the stream starts at the oldest event the CRM keeps). Ends when the stream fails
 * (the error is thrown), `signal` aborts, the lease is lost, or the workspace no longer has the
 * connection when the lease is taken.
 */
export async function followChangeStream(
  deps: ServiceDeps,
  input: {
    workspaceId: string;
    /** The connection whose stream this is: followed only while the workspace still has it (issue 20). */
    connection: { crm: CrmVendor; accountId: string };
    holder: string;
    open: OpenChangeStream;
    /** How long the lease lasts unrenewed: another server takes the stream over that long after this one died. */
    leaseMs?: number;
    signal?: AbortSignal;
    onStored?: () => void;
  },
): Promise<ChangeStreamEnd> {
  const { workspaceId, holder } = input;
  const leaseMs = input.leaseMs ?? DEFAULT_LEASE_MS;
  const lease = () => ({ workspaceId, holder, now: deps.clock(), leaseMs });
  const claimed = await claimStreamLease(deps.db, { ...lease(), connection: input.connection });
  if (claimed !== 'claimed') return claimed;
  let end = 'closed' as ChangeStreamEnd;
  let stream: Awaited<ReturnType<OpenChangeStream>>;
  try {
    const workspace = await requireWorkspace(deps, workspaceId);
    const since = workspace.createdAt;
    stream = await input.open(await readStreamPositions(deps.db, workspaceId), async (batch, topicIndex) => {
      const events = batch.events.filter((event) => event.occurredAt >= since);
      const reread = batch.reread ? await readAgain(deps, deps.crmFor(workspace), workspaceId, batch.reread) : [];
      await storeStreamBatch(deps.db, {
        workspaceId,
        holder,
        topicIndex,
        batch: { ...batch, events: [...events, ...reread] },
        now: deps.clock(),
      });
      input.onStored?.();
    });
  } catch (error) {
    // A stream that could not be opened (a refused sign-in) holds nothing: another server, or new
    // credentials, may try at once instead of after the lease lapses.
    await releaseStreamLease(deps.db, workspaceId, holder, deps.clock());
    throw error;
  }
  const renew = setInterval(
    () =>
      void renewStreamLease(deps.db, lease()).then(
        (held) => {
          if (held) return;
          end = 'lease_lost';
          stream.close();
        },
        () => {},
      ),
    Math.max(1_000, Math.floor(leaseMs / 3)),
  );
  const abort = () => stream.close();
  input.signal?.addEventListener('abort', abort, { once: true });
  try {
    await stream.done;
    return end;
  } finally {
    clearInterval(renew);
    input.signal?.removeEventListener('abort', abort);
    stream.close();
    if (end !== 'lease_lost') await releaseStreamLease(deps.db, workspaceId, holder, deps.clock());
  }
}

/** What the CRM holds now on the governed properties of records whose changes it could not send. */
async function readAgain(
  deps: ServiceDeps,
  crm: CrmPort,
  workspaceId: string,
  reread: NonNullable<CrmChangeBatch['reread']>,
): Promise<CrmChangeEvent[]> {
  const governed = await governedPropertiesOfRecords(deps.db, { workspaceId, ...reread });
  const recordIds = [...governed.keys()];
  const now = deps.clock();
  const found: CrmChangeEvent[] = [];
  // As many as one read of the records' own CRM takes (issue 20: not the smaller CRM's in a workspace of both).
  const { readBatchLimit, batchLimit } = crm.forObject(reread.objectType);
  const perRead = readBatchLimit ?? batchLimit;
  for (let start = 0; start < recordIds.length; start += perRead) {
    const slice = recordIds.slice(start, start + perRead);
    const properties = [...new Set(slice.flatMap((id) => governed.get(id) ?? []))];
    const records = await crm.readBatch({ objectType: reread.objectType as ObjectType, recordIds: slice, properties });
    for (const recordId of slice) {
      const values = records.get(recordId);
      const properties = governed.get(recordId) ?? [];
      // A record the CRM no longer has is one deletion, not one per property.
      for (const property of values ? properties : properties.slice(0, 1))
        found.push({
          objectType: reread.objectType,
          recordId,
          property: values ? property : null,
          value: values ? (values[property] ?? null) : null,
          recordEvent: values ? null : 'record_deleted',
          occurredAt: now,
          source: 'crm',
          sourceId: null,
          origin: 'read again after a gap in the change stream',
        });
    }
  }
  return found;
}
