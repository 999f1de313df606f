import { stringify } from 'csv-stringify/sync';
import type { RollbackSelector, RollbackView } from '../../../../shared/rollback-api.ts';
import { canonicalJson } from '../../domain/audit-chain.ts';
import { AppError } from '../../errors.ts';
import { itemsPage, lockRollback, updateRollback } from '../../store/rollback-store.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { itemView, requireRollback, rollbackView } from './rollback-view.ts';

export async function getRollback(deps: ServiceDeps, workspaceId: string, id: string): Promise<RollbackView> {
  return rollbackView(deps.db, await requireRollback(deps.db, workspaceId, id));
}

/**
 * Pause takes effect before the job's next CRM write; the batch in flight finishes and is
 * recorded. The job keeps its lease until it stops, so a quick resume can never let a second
 * worker re-do a write the first one is still making.
 */
/** Whether a rollback was started by this same request (selector and force), so repeating the request may resume it. */
export function isSameRollbackRequest(
  rollback: RollbackView,
  request: { selector: RollbackSelector; force: boolean },
): boolean {
  return canonicalJson(rollback.selector) === canonicalJson(request.selector) && rollback.force === request.force;
}

export async function setRollbackPaused(
  deps: ServiceDeps,
  workspaceId: string,
  id: string,
  paused: boolean,
  actor: Actor,
): Promise<RollbackView> {
  await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const row = await lockRollback(tx, workspaceId, id);
    if (!row) throw new AppError('NOT_FOUND', `Rollback ${id} does not exist in this workspace.`);
    if (row.status === 'completed')
      throw new AppError(
        'CONFLICT',
        `Rollback ${id} is already completed; there is nothing to ${paused ? 'pause' : 'resume'}.`,
      );
    const wanted = paused ? 'paused' : 'running';
    if (row.status === wanted) return;
    await updateRollback(tx, id, { status: wanted, statusReason: paused ? `Paused by ${actor.name}.` : null });
    audit.append({
      type: paused ? 'rollback.paused' : 'rollback.resumed',
      actor: actorJson(actor),
      agentId: row.agentId,
      batchId: id,
      before: { status: row.status },
      after: { status: wanted },
      data: { rollbackId: id },
    });
  });
  return getRollback(deps, workspaceId, id);
}

const REPORT_PAGE = 1_000;
const CSV_COLUMNS = [
  'objectType',
  'recordId',
  'property',
  'before',
  'restoreValue',
  'outcome',
  'forced',
  'explanation',
  'conflictOrigin',
  'conflictWho',
  'conflictAt',
  'conflictCause',
] as const;
/**
 * A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, as in
 * the audit export: a value an agent wrote or a person typed (`=HYPERLINK(…)`) would otherwise run as
 * a formula when RevOps opens the report in a spreadsheet. The JSON report keeps every value exact.
 */
const CSV_ROW_OPTIONS = { escape_formulas: true };

/** Every item with before, restored value, outcome and explanation, streamed a page at a time. */
export async function* rollbackReport(
  deps: ServiceDeps,
  workspaceId: string,
  id: string,
  format: 'csv' | 'json',
): AsyncGenerator<string> {
  const row = await requireRollback(deps.db, workspaceId, id);
  if (format === 'csv') yield stringify([[...CSV_COLUMNS]]);
  else yield `{"rollback":${JSON.stringify(await rollbackView(deps.db, row))},"items":[`;
  let afterSeq = -1;
  let first = true;
  for (;;) {
    const page = await itemsPage(deps.db, { rollbackId: id, afterSeq, limit: REPORT_PAGE });
    if (page.length === 0) break;
    afterSeq = page.at(-1)!.seq;
    const views = page.map(itemView);
    if (format === 'csv') {
      yield stringify(
        views.map((v) => [
          v.objectType,
          v.recordId,
          v.property,
          v.before ?? '',
          v.restoreValue ?? '',
          v.outcome,
          String(v.forced),
          v.explanation ?? '',
          v.conflict?.origin ?? '',
          v.conflict?.who ?? '',
          v.conflict?.at ?? '',
          v.conflict?.cause ?? '',
        ]),
        CSV_ROW_OPTIONS,
      );
    } else {
      yield `${first ? '' : ','}${views.map((v) => JSON.stringify(v)).join(',')}`;
      first = false;
    }
  }
  if (format === 'json') yield ']}\n';
}
