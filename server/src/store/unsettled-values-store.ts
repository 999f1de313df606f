import { sql } from 'drizzle-orm';
import type { Db, Tx } from './database.ts';

const NO_ID = '00000000-0000-0000-0000-000000000000';

/** Audit events that say our write put these values (`after`, by property) in the CRM. */
const WRITE_EVENTS = ['change.applied', 'approval.applied', 'rollback.record_reverted'];

/**
 * Values our own writes put, or are about to put, on these records that a CRM read begun once
 * the workspace's chain head was at `sinceSeq` may not show (issue 17), by record and property.
 * A submission calls it under the chain lock, so no write can be decided or settle meanwhile;
 * an approval's write calls it after claiming, so a write decided later sees the claim instead:
 * - writes settled after `sinceSeq` (their events) may have landed after the read;
 * - writes decided but not settled (`applying` changes of change sets still applying, approvals
 *   claimed for writing) may land at any time.
 * A write settled at or before `sinceSeq` landed before the read began, so the read shows it.
 * Later sources win: settled events in chain order, then writes still in flight.
 */
export async function unsettledValues(
  tx: Db | Tx,
  query: {
    workspaceId: string;
    objectType: string;
    recordIds: readonly string[];
    sinceSeq: number;
    excludeChangeSetId?: string;
    excludeApprovalIds?: readonly string[];
  },
): Promise<Map<string, Record<string, string | null>>> {
  const result = new Map<string, Record<string, string | null>>();
  if (query.recordIds.length === 0) return result;
  const recordIds = sql.param([...query.recordIds]);
  const { rows } = (await tx.execute(sql`
    select record_id, property, value from (
      select e.record_id, kv.key as property, coalesce(p.values->'after'->>kv.key, kv.value) as value, 0 as source, e.seq as position, 0 as ordinal
      from audit_events e cross join lateral json_each_text(e.after) as kv
        left join audit_personal_data p on p.workspace_id = e.workspace_id and p.seq = e.seq
      where e.workspace_id = ${query.workspaceId} and e.seq > ${query.sinceSeq}
        and e.type = any(${sql.param(WRITE_EVENTS)}::text[]) and e.object_type = ${query.objectType}
        and e.record_id = any(${recordIds}::text[]) and json_typeof(e.after) = 'object'
      union all
      select c.record_id, c.property, c.proposed_value, 1, extract(epoch from s.created_at)::float8, c.ordinal
      from change_sets s join changes c on c.change_set_id = s.id
      where s.workspace_id = ${query.workspaceId} and s.status = 'applying' and s.id <> ${query.excludeChangeSetId ?? NO_ID}
        and s.object_type = ${query.objectType} and c.decision = 'applying' and c.record_id = any(${recordIds}::text[])
      union all
      select a.record_id, i.property, case when i.edited then i.edited_value else i.proposed_value end, 2, extract(epoch from a.applying_since)::float8, 0
      from approvals a join approval_items i on i.approval_id = a.id
      where a.workspace_id = ${query.workspaceId} and a.status = 'approved' and a.applying_since is not null and a.id <> all(${sql.param([...(query.excludeApprovalIds ?? [])])}::uuid[])
        and a.object_type = ${query.objectType} and i.status = 'approved' and a.record_id = any(${recordIds}::text[])
    ) as unsettled
    order by source, position, ordinal`)) as unknown as {
    rows: { record_id: string; property: string; value: string | null }[];
  };
  for (const row of rows) result.set(row.record_id, { ...result.get(row.record_id), [row.property]: row.value });
  return result;
}
