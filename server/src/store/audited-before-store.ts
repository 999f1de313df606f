import { sql } from 'drizzle-orm';
import { REDACTED } from '../domain/audit-personal.ts';
import type { AuditedBefore } from '../domain/rollback-plan.ts';
import type { Db, Tx } from './database.ts';

/**
 * The value before each of these changes on its record × property as the audit trail recorded it
 * (issue 7): an agent's change in its `change.decided` event (whose `data.decisions` names the
 * change), a rollback's own write in its `rollback.record_reverted` event (of the change's change
 * set). A personal value kept apart is read back from `audit_personal_data`; once retention or an
 * erasure deleted it, the event holds only REDACTED and the value is `erased`. A change no event
 * records is left out (the caller takes it as `missing`). One statement for a step's fields,
 * found through the events' record index.
 */
export async function auditedBeforeValues(
  db: Db | Tx,
  query: { workspaceId: string; fields: readonly { changeId: string; recordId: string; property: string }[] },
): Promise<Map<string, AuditedBefore>> {
  const result = new Map<string, AuditedBefore>();
  if (query.fields.length === 0) return result;
  const { rows } = (await db.execute(sql`
    select f.change_id, e.value is not distinct from ${REDACTED} and p.seq is null as erased,
      case when p.values->'before'->f.property is not null then p.values->'before'->>f.property else e.value end as value
    from unnest(${sql.param(query.fields.map((f) => f.changeId))}::uuid[], ${sql.param(query.fields.map((f) => f.recordId))}::text[],
      ${sql.param(query.fields.map((f) => f.property))}::text[]) as f(change_id, record_id, property)
    join changes c on c.id = f.change_id and c.workspace_id = ${query.workspaceId}
    cross join lateral (
      select e.seq, e.before->>f.property as value from audit_events e
      where e.workspace_id = ${query.workspaceId} and e.record_id = f.record_id and e.change_set_id = c.change_set_id
        and e.type in ('change.decided', 'rollback.record_reverted') and e.before->f.property is not null
        and (e.type <> 'change.decided' or e.data->'decisions'->f.property->>'changeId' = f.change_id::text)
      order by e.seq limit 1
    ) as e
    left join audit_personal_data p on p.workspace_id = ${query.workspaceId} and p.seq = e.seq`)) as unknown as {
    rows: { change_id: string; erased: boolean; value: string | null }[];
  };
  for (const row of rows)
    result.set(row.change_id, row.erased ? { state: 'erased' } : { state: 'recorded', value: row.value });
  return result;
}
