import { evidenceSchema } from '../../../shared/agent-api.ts';
import type { ObjectType } from '../../../shared/crm-names.ts';
import type { CrmRecordValues } from '../crm/port.ts';
import { checkStale, valuesToApply } from '../domain/approval-lifecycle.ts';
import { AppError } from '../errors.ts';
import { findAgent } from '../store/agent-store.ts';
import { claimApply, findApproval, findRecordEvidence, settleApply, toDomainApproval, type StoredApproval } from '../store/approval-store.ts';
import { withAuditChain } from '../store/audit-store.ts';
import type { WorkspaceRow } from '../store/workspace-store.ts';
import type { ServiceDeps } from './deps.ts';
import { engagedKillSwitch } from './kill-switches.ts';
import { provenanceValues } from './provenance.ts';

/** A claim on an approval's write older than this belongs to a process that died mid-write. */
const ABANDONED_APPLY_MS = 5 * 60_000;

const SYSTEM = { type: 'system', name: 'approvals' } as const;

type ApplyResult = { status: 'applied' | 'stale' | 'approved'; message: string | null; event: 'approval.applied' | 'approval.stale' | 'approval.apply_failed'; current?: CrmRecordValues };

/**
 * Writes an approved approval to the CRM, once. Re-reads the record first: if a person changed a
 * held property since the agent proposed, the approval goes `stale` and nothing is written. A
 * CRM failure (or an engaged kill switch) leaves it `approved`, to be applied again later.
 * Returns without doing anything when the approval is not `approved` or another caller holds it.
 */
export async function applyApproval(deps: ServiceDeps, input: { workspace: WorkspaceRow; approvalId: string }): Promise<void> {
  const now = deps.clock();
  if (!(await claimApply(deps.db, input.approvalId, now, new Date(now.getTime() - ABANDONED_APPLY_MS)))) return;
  const stored = await findApproval(deps.db, input.workspace.id, input.approvalId);
  if (!stored) return;
  let result: ApplyResult;
  try {
    result = await writeApproved(deps, input.workspace, stored, now);
  } catch (error) {
    result = { status: 'approved', event: 'approval.apply_failed', message: error instanceof AppError ? error.message : 'The CRM could not be reached.' };
  }
  await withAuditChain(deps.db, input.workspace.id, deps.clock, async (tx, audit) => {
    await settleApply(tx, stored.id, { status: result.status, message: result.message });
    const values = valuesToApply(toDomainApproval(stored));
    audit.append({
      type: result.event,
      actor: SYSTEM,
      agentId: stored.agentId,
      batchId: stored.batchId,
      changeSetId: stored.changeSetId,
      objectType: stored.objectType,
      recordId: stored.recordId,
      before: Object.fromEntries(stored.items.filter((item) => item.status === 'approved').map((item) => [item.property, item.beforeValue])),
      after: result.event === 'approval.applied' ? values : null,
      policyVersion: stored.policyVersion,
      data: { approvalId: stored.id, status: result.status, message: result.message, ...(result.current ? { current: result.current } : {}) },
    });
  });
}

async function writeApproved(deps: ServiceDeps, workspace: WorkspaceRow, stored: StoredApproval, now: Date): Promise<ApplyResult> {
  const killed = await engagedKillSwitch(deps.db, { workspaceId: workspace.id, agentId: stored.agentId, action: 'field_write' });
  if (killed) return { status: 'approved', event: 'approval.apply_failed', message: `Not written yet: a kill switch is engaged (${killed.reason}).` };

  const crm = deps.crmFor(workspace);
  const objectType = stored.objectType as ObjectType;
  const held = stored.items.filter((item) => item.status !== 'rejected');
  const read = await crm.readBatch({ objectType, recordIds: [stored.recordId], properties: held.map((item) => item.property) });
  const record = read.get(stored.recordId);
  if (!record) return { status: 'stale', event: 'approval.stale', message: `Record ${stored.recordId} no longer exists in the CRM; nothing was written.` };
  const current = Object.fromEntries(held.map((item) => [item.property, record[item.property] ?? null]));
  const approval = toDomainApproval(stored);
  const before = Object.fromEntries(stored.items.map((item) => [item.property, item.beforeValue]));
  if (checkStale(approval, before, current).status === 'stale') {
    const changed = held.filter((item) => (current[item.property] ?? null) !== item.beforeValue).map((item) => item.property);
    return { status: 'stale', event: 'approval.stale', current, message: `Someone changed ${changed.join(', ')} in the CRM after the agent proposed; nothing was overwritten.` };
  }

  const values = valuesToApply(approval);
  const agent = await findAgent(deps.db, workspace.id, stored.agentId);
  const evidence = evidenceSchema.parse(await findRecordEvidence(deps.db, stored.changeSetId, stored.recordId));
  const properties: Record<string, string> = {};
  for (const [property, value] of Object.entries(values)) properties[property] = value ?? '';
  Object.assign(properties, provenanceValues({ changeSetId: stored.changeSetId, agentName: agent?.name ?? stored.agentId, evidence, properties: Object.keys(values), at: now }));
  const [outcome] = await crm.writeBatch({ objectType, writes: [{ recordId: stored.recordId, properties }] });
  if (outcome?.ok) return { status: 'applied', event: 'approval.applied', message: null };
  return { status: 'approved', event: 'approval.apply_failed', message: outcome ? outcome.message : 'The CRM gave no outcome for this record.' };
}
