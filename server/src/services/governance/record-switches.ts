import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { CrmPort } from '../../crm/port.ts';
import { type EngagedSwitch, segmentProperties, switchStopping } from '../../domain/kill-switch-scope.ts';
import { listsOfRecords } from './kill-switches.ts';

/**
 * For each entry (a record and the evidence source it cites), the engaged segment or evidence-source
 * switch that stops it, if any. The records are read only for the properties an engaged condition
 * segment looks at, and the lists asked only when a list segment is engaged.
 */
export async function switchesStoppingEntries(
  crm: CrmPort,
  engaged: readonly EngagedSwitch[],
  query: { agentId: string; objectType: ObjectType; entries: readonly { recordId: string; evidenceSource: string }[] },
): Promise<(EngagedSwitch | undefined)[]> {
  const scoped = engaged.filter((candidate) => candidate.scope === 'segment' || candidate.scope === 'evidence_source');
  if (scoped.length === 0) return query.entries.map(() => undefined);
  const properties = segmentProperties(scoped, query.objectType);
  const values = new Map<string, Record<string, string | null>>();
  const lists = new Map<string, Set<string>>();
  const recordIds = [...new Set(query.entries.map((entry) => entry.recordId))];
  // A CRM read at a time, as many as the records' own CRM reads at once (issue 20: a workspace may
  // hold both): a change set of associations may name thousands of records.
  const { readBatchLimit, batchLimit } = crm.forObject(query.objectType);
  const perRead = readBatchLimit ?? batchLimit;
  for (let start = 0; start < recordIds.length; start += perRead) {
    const slice = recordIds.slice(start, start + perRead);
    if (properties.length > 0)
      for (const [id, read] of await crm.readBatch({ objectType: query.objectType, recordIds: slice, properties }))
        values.set(id, read);
    for (const [id, of] of await listsOfRecords(crm, scoped, slice)) lists.set(id, of);
  }
  return query.entries.map((entry) => {
    const read = values.get(entry.recordId);
    const of = lists.get(entry.recordId);
    return switchStopping(scoped, {
      agentId: query.agentId,
      action: 'field_write',
      objectType: query.objectType,
      recordId: entry.recordId,
      evidenceSource: entry.evidenceSource,
      ...(read ? { record: read } : {}),
      ...(of ? { lists: of } : {}),
    });
  });
}
