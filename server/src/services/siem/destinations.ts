import { type CreateSiemDestination, type SiemDestinationView, shownSiemUrl } from '../../../../shared/siem-api.ts';
import { isDown } from '../../domain/siem-delivery.ts';
import { AppError } from '../../errors.ts';
import { readAuditHead } from '../../store/audit-store.ts';
import {
  deleteSiemDestination,
  insertSiemDestination,
  listSiemDestinations,
  type SiemDestinationRow,
} from '../../store/siem-store.ts';
import { actorJson, type Actor, isUuid, newId, type ServiceDeps, withAuditChain } from '../common/index.ts';

/**
 * Adds a SIEM destination (issue 22), as parsed by `createSiemDestinationSchema` at the API or CLI. Its secret is sealed like the CRM token and never returned;
 * the change is an audit event, so the chain says when streaming to where began. A URL naming an
 * address the server does not send to (127.0.0.1, 169.254.169.254…) is refused here; a host name, when used.
 */
export async function addSiemDestination(
  deps: ServiceDeps,
  workspaceId: string,
  parsed: CreateSiemDestination,
  actor: Actor,
): Promise<SiemDestinationView> {
  deps.outbound.assertConfigurable(new URL(parsed.url).hostname, { path: 'url', what: "The destination's URL" });
  const now = deps.clock();
  const row = await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const head = await readAuditHead(tx, workspaceId);
    if ((await listSiemDestinations(tx, workspaceId)).some(({ destination }) => destination.name === parsed.name))
      throw new AppError('CONFLICT', `A SIEM destination named "${parsed.name}" already exists in this workspace.`);
    const stored = await insertSiemDestination(tx, {
      id: newId(),
      workspaceId,
      name: parsed.name,
      kind: parsed.kind,
      url: parsed.url,
      secretEnc: parsed.secret === undefined ? null : deps.secrets.seal(parsed.secret),
      downAfterSeconds: parsed.downAfterSeconds,
      // "now" starts after the head as this transaction holds it locked, so nothing before is sent.
      cursorSeq: parsed.startFrom === 'now' ? head.seq : 0,
      checkpointCursorSeq: parsed.startFrom === 'now' ? head.seq : 0,
      nextAttemptAt: now,
    });
    audit.append({
      type: 'siem_destination.added',
      actor: actorJson(actor),
      after: {
        id: stored.id,
        name: stored.name,
        kind: stored.kind,
        url: shownSiemUrl(stored.url),
        startFrom: parsed.startFrom,
      },
    });
    return stored;
  });
  return view(row, (await readAuditHead(deps.db, workspaceId)).seq, now);
}

export async function listWorkspaceSiemDestinations(
  deps: ServiceDeps,
  workspaceId: string,
): Promise<SiemDestinationView[]> {
  const now = deps.clock();
  return (await listSiemDestinations(deps.db, workspaceId)).map(({ destination, headSeq }) =>
    view(destination, headSeq, now),
  );
}

export async function removeSiemDestination(
  deps: ServiceDeps,
  workspaceId: string,
  destinationId: string,
  actor: Actor,
): Promise<void> {
  await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const removed = isUuid(destinationId)
      ? await deleteSiemDestination(tx, { workspaceId, id: destinationId })
      : undefined;
    if (!removed)
      throw new AppError('NOT_FOUND', `SIEM destination ${destinationId} does not exist in this workspace.`);
    audit.append({
      type: 'siem_destination.removed',
      actor: actorJson(actor),
      before: {
        id: removed.id,
        name: removed.name,
        kind: removed.kind,
        url: shownSiemUrl(removed.url),
        cursorSeq: removed.cursorSeq,
      },
    });
  });
}

function view(row: SiemDestinationRow, headSeq: number, now: Date): SiemDestinationView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    url: shownSiemUrl(row.url),
    hasSecret: row.secretEnc !== null,
    downAfterSeconds: row.downAfterSeconds,
    status: status(row, headSeq, now),
    cursorSeq: row.cursorSeq,
    headSeq,
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    failingSince: row.failingSince?.toISOString() ?? null,
    nextAttemptAt: row.nextAttemptAt.toISOString(),
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
  };
}

function status(row: SiemDestinationRow, headSeq: number, now: Date): SiemDestinationView['status'] {
  if (isDown({ failingSince: row.failingSince, downAfterSeconds: row.downAfterSeconds, now })) return 'down';
  if (row.failingSince !== null) return 'failing';
  return row.cursorSeq < headSeq ? 'behind' : 'current';
}
