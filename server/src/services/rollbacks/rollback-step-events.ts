import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { CrmWriteOutcome } from '../../crm/port.ts';
import type { JsonObject, NewAuditEvent } from '../../domain/audit-chain.ts';
import { isUnaudited, type ItemDecision } from '../../domain/rollback-plan.ts';
import type { RollbackRow, StepItem } from '../../store/rollback-store.ts';

/** A step's item decided again after its CRM read, with the value the CRM held then. */
export interface Decided {
  item: StepItem;
  decision: ItemDecision;
  valueFound: string | null;
}

/**
 * One event per record with restore values the audit trail does not vouch for (a row edited by
 * hand, or a value erased since): what the CRM held, and per property why it was not written and
 * which change's audited value it was checked against.
 */
export function refusedRecords(
  rollback: RollbackRow,
  objectType: ObjectType,
  decided: readonly Decided[],
): NewAuditEvent[] {
  const refused = decided.filter((d) => d.decision.plan.conflict && isUnaudited(d.decision.plan.conflict.cause));
  return [...Map.groupBy(refused, (d) => d.item.recordId)].map(([recordId, fields]) => {
    const before: JsonObject = {};
    const causes: JsonObject = {};
    for (const { item, decision, valueFound } of fields) {
      before[item.property] = valueFound;
      causes[item.property] = { cause: decision.plan.conflict!.cause, changeId: item.changeIds[0]! };
    }
    return {
      type: 'rollback.restore_value_refused',
      actor: rollback.actor as JsonObject,
      agentId: rollback.agentId,
      batchId: rollback.id,
      objectType,
      recordId,
      before,
      after: null,
      reasons: [...new Set(fields.map((f) => f.decision.plan.conflict!.cause))],
      data: { rollbackId: rollback.id, properties: fields.map((f) => f.item.property), refused: causes },
    };
  });
}

/** A field of a record a rollback wrote back: the value the CRM held before the write, the one restored, whether forced. */
export interface RevertedField {
  property: string;
  before: string | null;
  restored: string | null;
  forced: boolean;
}

/**
 * The event recording a rollback's write of one record: `rollback.record_reverted`, or
 * `rollback.record_failed` once it failed for good. `extra` goes into its data.
 */
export function recordEvent(
  rollback: RollbackRow,
  changeSetId: string,
  objectType: string,
  recordId: string,
  fields: readonly RevertedField[],
  outcome: CrmWriteOutcome,
  extra: JsonObject = {},
): NewAuditEvent {
  return {
    type: outcome.ok ? 'rollback.record_reverted' : 'rollback.record_failed',
    actor: rollback.actor as JsonObject,
    agentId: rollback.agentId,
    batchId: rollback.id,
    changeSetId,
    objectType,
    recordId,
    before: Object.fromEntries(fields.map((field) => [field.property, field.before])),
    after: outcome.ok ? Object.fromEntries(fields.map((field) => [field.property, field.restored])) : null,
    reasons: outcome.ok ? [] : [outcome.reason],
    data: {
      rollbackId: rollback.id,
      properties: fields.map((field) => field.property),
      forced: fields.filter((field) => field.forced).map((field) => field.property),
      ...(outcome.ok ? {} : { message: outcome.message }),
      ...extra,
    },
  };
}

/**
 * The `rollback.record_reverted` events of writes that landed before a crash (found written when
 * the rollback resumed), which the crash kept from being recorded: without them the trail would
 * not hold these writes, nor the value before them that undoing the rollback restores. `before` is
 * what the rollback's own change row says the CRM held right before the write.
 */
export function recoveredRecords(
  rollback: RollbackRow,
  changeSetId: string,
  objectType: ObjectType,
  recovered: readonly Decided[],
  before: ReadonlyMap<string, string | null>,
): NewAuditEvent[] {
  return [...Map.groupBy(recovered, (d) => d.item.recordId)].map(([recordId, fields]) =>
    recordEvent(
      rollback,
      changeSetId,
      objectType,
      recordId,
      fields.map(({ item }) => ({
        property: item.property,
        before: before.get(item.revertChangeId!) ?? null,
        restored: item.restoreValue,
        forced: false,
      })),
      { recordId, ok: true },
      { recoveredAfterCrash: true },
    ),
  );
}
