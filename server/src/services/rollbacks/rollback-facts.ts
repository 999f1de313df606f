import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { RollbackSelector } from '../../../../shared/rollback-api.ts';
import type { CrmPort, CrmRecordValues, CrmValueChange } from '../../crm/port.ts';
import {
  explainWithHistory,
  originOfFieldChange,
  type Conflict,
  type CurrentValue,
  type OtherChange,
  type SelectedWrite,
} from '../../domain/rollback-plan.ts';
import type { Db, Tx } from '../../store/database.ts';
import { otherChangesOf, selectedChangesOf, selectedRecordsPage } from '../../store/rollback-selection-store.ts';

/** Records per step: HubSpot's batch limit, so one step is one CRM read and one CRM write. */
export const RECORDS_PER_STEP = 100;

export interface SelectedField {
  objectType: ObjectType;
  recordId: string;
  property: string;
  selected: SelectedWrite[];
}

/** The selection's fields, a page of up to 100 records of one object type at a time; never the whole selection. */
export async function* selectedFieldPages(
  db: Db | Tx,
  workspaceId: string,
  selector: RollbackSelector,
): AsyncGenerator<SelectedField[]> {
  let after: string | null = null;
  for (;;) {
    const recordIds = await selectedRecordsPage(db, { workspaceId, selector, after, limit: RECORDS_PER_STEP });
    if (recordIds.length === 0) return;
    const rows = await selectedChangesOf(db, { workspaceId, selector, recordIds });
    for (const ofType of Map.groupBy(rows, (row) => row.objectType).values()) {
      const fields = new Map<string, SelectedField>();
      for (const row of ofType) {
        const key = fieldKey(row.recordId, row.property);
        const field = fields.get(key) ?? {
          objectType: row.objectType as ObjectType,
          recordId: row.recordId,
          property: row.property,
          selected: [],
        };
        field.selected.push({ changeId: row.changeId, before: row.before, written: row.written, at: row.at });
        fields.set(key, field);
      }
      yield [...fields.values()];
    }
    after = recordIds.at(-1) ?? null;
  }
}

export function fieldKey(recordId: string, property: string): string {
  return `${recordId}\u0000${property}`;
}

/**
 * Changes by others to these fields (one object type) since each field's earliest selected
 * change, keyed by fieldKey. `exclude` names our own changes that are not "others": the
 * selection, and the rollback's own writes.
 */
export async function othersByField(
  db: Db | Tx,
  input: {
    workspaceId: string;
    objectType: string;
    fields: readonly { recordId: string; property: string; from: Date }[];
    exclude: readonly string[];
  },
): Promise<Map<string, OtherChange[]>> {
  const result = new Map<string, OtherChange[]>();
  if (input.fields.length === 0) return result;
  const since = new Date(Math.min(...input.fields.map((field) => field.from.getTime())));
  const wanted = new Set(input.fields.map((field) => fieldKey(field.recordId, field.property)));
  const rows = await otherChangesOf(db, {
    workspaceId: input.workspaceId,
    objectType: input.objectType,
    recordIds: [...new Set(input.fields.map((f) => f.recordId))],
    since,
    excludeChangeIds: input.exclude,
  });
  for (const row of rows) {
    const key = fieldKey(row.recordId, row.property);
    if (!wanted.has(key)) continue;
    const change: OtherChange = { origin: originOfFieldChange(row.kind), who: row.who, value: row.value, at: row.at };
    const list = result.get(key);
    if (list) list.push(change);
    else result.set(key, [change]);
  }
  return result;
}

/** One CRM read for a step's records: the fields' current values. */
export async function readCurrent(
  crm: CrmPort,
  objectType: ObjectType,
  fields: readonly { recordId: string; property: string }[],
): Promise<Map<string, CrmRecordValues>> {
  const recordIds = [...new Set(fields.map((field) => field.recordId))];
  const properties = [...new Set(fields.map((field) => field.property))];
  return crm.readBatch({ objectType, recordIds, properties });
}

export function currentOf(records: Map<string, CrmRecordValues>, recordId: string, property: string): CurrentValue {
  const record = records.get(recordId);
  return record ? { found: true, value: record[property] ?? null } : { found: false };
}

/**
 * Conflicts nobody in our records explains, explained by HubSpot's property history: one more
 * CRM read, only for a step (or dry-run page) that has such conflicts. Keyed by fieldKey.
 */
export async function explainFromCrmHistory(
  crm: CrmPort,
  objectType: ObjectType,
  conflicts: readonly { recordId: string; property: string; conflict: Conflict }[],
): Promise<Map<string, Conflict>> {
  const explained = new Map<string, Conflict>();
  const unexplained = conflicts.filter((c) => c.conflict.cause === 'value_differs');
  if (unexplained.length === 0 || !crm.readLatestChanges) return explained;
  // A step may hold more records than one history read takes (Salesforce's steps are 2,000 records).
  const recordIds = [...new Set(unexplained.map((c) => c.recordId))];
  const properties = [...new Set(unexplained.map((c) => c.property))];
  const history = new Map<string, Record<string, CrmValueChange>>();
  const { batchLimit } = crm.forObject(objectType);
  for (let i = 0; i < recordIds.length; i += batchLimit) {
    const slice = recordIds.slice(i, i + batchLimit);
    for (const [recordId, latest] of await crm.readLatestChanges({ objectType, recordIds: slice, properties }))
      history.set(recordId, latest);
  }
  for (const { recordId, property, conflict } of unexplained) {
    const revision = history.get(recordId)?.[property];
    if (revision) explained.set(fieldKey(recordId, property), explainWithHistory(conflict, revision));
  }
  return explained;
}
