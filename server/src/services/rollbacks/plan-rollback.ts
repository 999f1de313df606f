import { createHash } from 'node:crypto';
import type {
  CreateRollbackRequest,
  RollbackItemView,
  RollbackPlan,
  RollbackSelector,
  RollbackView,
} from '../../../../shared/rollback-api.ts';
import { canonicalJson } from '../../domain/audit-chain.ts';
import { planField, selectionBounds, type RollbackClass } from '../../domain/rollback-plan.ts';
import { damagedChangeSetMessage } from '../../domain/stored-decisions.ts';
import { AppError } from '../../errors.ts';
import { auditedBeforeValues } from '../../store/audited-before-store.ts';
import { countSelectedAssociations } from '../../store/record-association-store.ts';
import { countSelectedCreations } from '../../store/record-creation-store.ts';
import {
  findDamagedSelectedChange,
  insertSelectionAsItems,
  refreshStatistics,
} from '../../store/rollback-selection-store.ts';
import { findActiveRollback, insertRollback, updateRollback } from '../../store/rollback-store.ts';
import { requireWorkspace } from '../governance/index.ts';
import { actorJson, type Actor, type ServiceDeps, newId, lockAuditChain } from '../common/index.ts';
import { ensureRollbackAgent } from './rollback-agent.ts';
import {
  currentOf,
  explainFromCrmHistory,
  fieldKey,
  othersByField,
  readCurrent,
  selectedFieldPages,
} from './rollback-facts.ts';
import { explain, requireRollback, rollbackView, storedConflict } from './rollback-view.ts';

const SAMPLE_PER_OUTCOME = 10;

/** One active rollback per batch (whatever else the selector says), or per identical selector. */
export function selectorKey(selector: RollbackSelector): string {
  if (selector.batchId !== undefined) return `batch:${selector.batchId}`;
  return `selector:${createHash('sha256').update(canonicalJson(selector)).digest('hex')}`;
}

function nothingSelected(selector: RollbackSelector): AppError {
  // The same answer for another workspace's batch as for one that never existed.
  return new AppError('NOT_FOUND', 'Nothing to roll back: no applied change in this workspace matches the selector.', {
    details: { selector },
  });
}

/**
 * A selection holding a change whose stored decision is damaged (typed into the database) is not
 * planned: the rollback would pass that change over as not applied and report itself complete.
 */
async function refuseDamaged(deps: ServiceDeps, workspaceId: string, selector: RollbackSelector): Promise<void> {
  const damaged = await findDamagedSelectedChange(deps.db, workspaceId, selector);
  if (damaged) throw new AppError('INTERNAL', damagedChangeSetMessage(damaged));
}

/**
 * The dry run: reads the CRM's current values a page of 100 records at a time and classifies
 * every field as the rollback would now. Nothing is written or stored.
 */
export async function dryRunRollback(
  deps: ServiceDeps,
  workspaceId: string,
  request: CreateRollbackRequest,
): Promise<RollbackPlan> {
  const crm = deps.crmFor(await requireWorkspace(deps, workspaceId));
  await refuseDamaged(deps, workspaceId, request.selector);
  const counts: Record<RollbackClass, number> = { revert: 0, conflict: 0, already_reverted: 0 };
  const sample: RollbackItemView[] = [];
  for await (const fields of selectedFieldPages(deps.db, workspaceId, request.selector)) {
    const objectType = fields[0]!.objectType;
    const current = await readCurrent(crm, objectType, fields);
    const bounds = fields.map((field) => ({ field, ...selectionBounds(field.selected) }));
    const others = await othersByField(deps.db, {
      workspaceId,
      objectType,
      fields: bounds.map(({ field, from }) => ({ recordId: field.recordId, property: field.property, from })),
      exclude: fields.flatMap((field) => field.selected.map((s) => s.changeId)),
    });
    const audited = await auditedBeforeValues(deps.db, {
      workspaceId,
      fields: bounds.map(({ field, earliestChangeId }) => ({
        changeId: earliestChangeId,
        recordId: field.recordId,
        property: field.property,
      })),
    });
    const planned = fields.map((field) => {
      const now = currentOf(current, field.recordId, field.property);
      return {
        field,
        now,
        plan: planField(
          {
            selected: field.selected,
            others: others.get(fieldKey(field.recordId, field.property)) ?? [],
            current: now,
            audited,
          },
          { force: request.force },
        ),
      };
    });
    // Only conflicts that reach the sample need HubSpot's history to explain them.
    const sampled = planned.filter(
      ({ plan }) =>
        plan.conflict && sample.filter((item) => item.outcome === plan.classification).length < SAMPLE_PER_OUTCOME,
    );
    const explained = await explainFromCrmHistory(
      crm,
      objectType,
      sampled.map(({ field, plan }) => ({
        recordId: field.recordId,
        property: field.property,
        conflict: plan.conflict!,
      })),
    );
    for (const { field, now, plan } of planned) {
      counts[plan.classification] += 1;
      if (sample.filter((item) => item.outcome === plan.classification).length < SAMPLE_PER_OUTCOME) {
        const conflict = storedConflict(explained.get(fieldKey(field.recordId, field.property)) ?? plan.conflict);
        sample.push({
          objectType,
          recordId: field.recordId,
          property: field.property,
          before: now.found ? now.value : null,
          restoreValue: plan.restoreValue,
          outcome: plan.classification,
          forced: plan.forced,
          explanation: explain(conflict),
          conflict,
        });
      }
    }
  }
  const total = counts.revert + counts.conflict + counts.already_reverted;
  if (total === 0 && (await countSelectedEntries(deps.db, { workspaceId, selector: request.selector })) === 0)
    throw nothingSelected(request.selector);
  return {
    dryRun: true,
    selector: request.selector,
    force: request.force,
    total,
    counts: { revert: counts.revert, conflict: counts.conflict, alreadyReverted: counts.already_reverted, failed: 0 },
    sample,
  };
}

/**
 * Stores the rollback and its items (from our records alone, grouped by the database: the job
 * re-reads the CRM right before each write, so planning makes no CRM call) in one transaction,
 * so a crash leaves no half-planned rollback. The job starts once it commits.
 */
export async function startRollback(
  deps: ServiceDeps,
  workspaceId: string,
  request: CreateRollbackRequest,
  actor: Actor,
): Promise<RollbackView> {
  await requireWorkspace(deps, workspaceId);
  await refuseDamaged(deps, workspaceId, request.selector);
  const agent = await ensureRollbackAgent(deps, workspaceId, actor);
  const id = newId();
  const key = selectorKey(request.selector);
  await deps.db.transaction(async (tx) => {
    const inserted = await insertRollback(tx, {
      id,
      workspaceId,
      selector: request.selector,
      selectorKey: key,
      force: request.force,
      status: 'running',
      actor: actorJson(actor),
      agentId: agent.id,
      total: 0,
      createdAt: deps.clock(),
    });
    if (!inserted) {
      const active = await findActiveRollback(tx, workspaceId, key);
      throw new AppError(
        'CONFLICT',
        `Rollback ${active?.id ?? ''} of the same ${request.selector.batchId !== undefined ? 'batch' : 'selection'} is still ${active?.status ?? 'active'}; follow or resume it instead of starting another.`,
        {
          details: { rollbackId: active?.id ?? null },
        },
      );
    }
    const items = await insertSelectionAsItems(tx, { rollbackId: id, workspaceId, selector: request.selector });
    const creations = await countSelectedCreations(tx, { workspaceId, selector: request.selector });
    const associations = await countSelectedAssociations(tx, { workspaceId, selector: request.selector });
    if (items === 0 && creations === 0 && associations === 0) throw nothingSelected(request.selector);
    await refreshStatistics(tx, items);
    await updateRollback(tx, id, { total: items });
    const audit = await lockAuditChain(tx, workspaceId, deps.clock);
    audit.append({
      type: 'rollback.planned',
      actor: actorJson(actor),
      agentId: agent.id,
      batchId: id,
      data: {
        rollbackId: id,
        selector: request.selector,
        force: request.force,
        items,
        createdRecords: creations,
        associations,
      },
    });
    await audit.flush();
  });
  return rollbackView(deps.db, await requireRollback(deps.db, workspaceId, id));
}

/** Creations and associations a selector picks (issue 21): a rollback of only those still has work. */
async function countSelectedEntries(
  db: Parameters<typeof countSelectedCreations>[0],
  query: Parameters<typeof countSelectedCreations>[1],
): Promise<number> {
  return (await countSelectedCreations(db, query)) + (await countSelectedAssociations(db, query));
}
