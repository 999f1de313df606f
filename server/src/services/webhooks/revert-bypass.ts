import { CRM_OBJECT_TYPES } from '../../../../shared/crm-names.ts';
import { AppError } from '../../errors.ts';
import { fieldChangeBefore, fieldHistory, type FieldChangeRow } from '../../store/field-history-store.ts';
import { findWorkspace } from '../../store/workspace-store.ts';
import { type ServiceDeps, withAuditChain } from '../common/index.ts';
import { engagedKillSwitch } from '../governance/index.ts';

export interface BypassToRevert {
  row: FieldChangeRow;
}

const ACTOR = { type: 'system', name: 'bypass-revert' } as const;

/**
 * Writes bypassed fields back to the value before the bypass, through the CRM adapter (batched,
 * paced, retried like every write), when the policy asks for it. Skipped, and audited why, when
 * the previous value is unknown, a newer change exists, or a workspace kill switch is engaged.
 * The write is audited as `crm.bypass_reverted`; its own webhook then classifies as ours.
 */
export async function revertBypassWrites(
  deps: ServiceDeps,
  workspaceId: string,
  bypasses: readonly BypassToRevert[],
): Promise<void> {
  const workspace = await findWorkspace(deps.db, workspaceId);
  if (!workspace) return;
  // A revert belongs to no agent: only the workspace and field_write switches can stop it, and the nil id matches no agent switch.
  const killed = await engagedKillSwitch(deps.db, {
    workspaceId,
    agentId: '00000000-0000-0000-0000-000000000000',
    action: 'field_write',
  });
  const plans: { row: FieldChangeRow; restore: string | null; skipped?: string }[] = [];
  for (const { row } of bypasses) {
    const key = { workspaceId, objectType: row.objectType, recordId: row.recordId, property: row.property };
    const latest = (await fieldHistory(deps.db, key)).at(-1);
    const previous = await fieldChangeBefore(deps.db, key, row.occurredAt);
    if (!(CRM_OBJECT_TYPES as readonly string[]).includes(row.objectType))
      plans.push({ row, restore: null, skipped: 'object_type_not_governed' });
    else if (killed) plans.push({ row, restore: null, skipped: 'kill_switch_engaged' });
    else if (latest && latest.eventId !== row.eventId)
      plans.push({ row, restore: null, skipped: 'newer_change_exists' });
    else if (!previous) plans.push({ row, restore: null, skipped: 'previous_value_unknown' });
    else plans.push({ row, restore: previous.value });
  }
  const toWrite = plans.filter((p) => p.skipped === undefined);
  const crm = toWrite.length > 0 ? deps.crmFor(workspace) : undefined;
  const failures = new Map<FieldChangeRow, string>();
  for (const objectType of crm?.objectTypes ?? []) {
    // One write per record, all its reverted fields together: the CRM refuses a batch naming a record twice.
    const records = [
      ...Map.groupBy(
        toWrite.filter((p) => p.row.objectType === objectType),
        (p) => p.row.recordId,
      ),
    ];
    for (let i = 0; crm && i < records.length; i += crm.batchLimit) {
      const batch = records.slice(i, i + crm.batchLimit);
      const writes = batch.map(([recordId, fields]) => ({
        recordId,
        properties: Object.fromEntries(fields.map((p) => [p.row.property, p.restore ?? ''])),
      }));
      // A CRM that stays unavailable fails this batch's reverts, audited below; the events' other effects still follow.
      const outcomes = await crm.writeBatch({ objectType, writes }).catch((error: unknown) =>
        writes.map((write) => ({
          recordId: write.recordId,
          ok: false as const,
          message: error instanceof AppError ? error.message : 'The CRM could not be reached.',
        })),
      );
      outcomes.forEach((outcome, index) => {
        if (!outcome.ok) for (const plan of batch[index]?.[1] ?? []) failures.set(plan.row, outcome.message);
      });
    }
  }
  await withAuditChain(deps.db, workspaceId, deps.clock, async (_tx, audit) => {
    for (const plan of plans) {
      const failure = failures.get(plan.row);
      const reverted = plan.skipped === undefined && failure === undefined;
      audit.append({
        type: reverted ? 'crm.bypass_reverted' : 'crm.bypass_not_reverted',
        actor: ACTOR,
        agentId: plan.row.agentId,
        objectType: plan.row.objectType,
        recordId: plan.row.recordId,
        property: plan.row.property,
        before: { value: plan.row.value },
        after: reverted ? { value: plan.restore } : null,
        data: {
          eventId: plan.row.eventId,
          ...(plan.skipped ? { skipped: plan.skipped } : {}),
          ...(failure ? { crmMessage: failure } : {}),
        },
      });
    }
  });
}
