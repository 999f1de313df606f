import type { RetentionPeriodsInput, RetentionView } from '../../../../shared/retention-api.ts';
import { asJson } from '../../domain/audit-chain.ts';
import { readRetention, saveRetentionPeriods, type RetentionRow } from '../../store/retention-store.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain } from '../common/index.ts';

const KEEP_FOR_EVER: RetentionPeriodsInput = {
  changeRecordsDays: null,
  draftsDays: null,
  webhookPayloadsDays: null,
  auditPersonalDataDays: null,
};

/** A workspace's retention periods and its job's state; a workspace never configured keeps everything. */
export async function showRetention(deps: ServiceDeps, workspaceId: string): Promise<RetentionView> {
  return view(await readRetention(deps.db, workspaceId));
}

/** Sets the periods (audited with before and after); the job applies them on its next round. */
export async function setRetention(
  deps: ServiceDeps,
  workspaceId: string,
  periods: RetentionPeriodsInput,
  actor: Actor,
): Promise<RetentionView> {
  const row = await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const before = await readRetention(tx, workspaceId);
    const saved = await saveRetentionPeriods(tx, workspaceId, periods, deps.clock());
    audit.append({
      type: 'retention.configured',
      actor: actorJson(actor),
      before: asJson(before ? periodsOf(before) : KEEP_FOR_EVER),
      after: asJson(periods),
    });
    return saved;
  });
  return view(row);
}

function periodsOf(row: RetentionRow): RetentionPeriodsInput {
  return {
    changeRecordsDays: row.changeRecordsDays,
    draftsDays: row.draftsDays,
    webhookPayloadsDays: row.webhookPayloadsDays,
    auditPersonalDataDays: row.auditPersonalDataDays,
  };
}

function view(row: RetentionRow | undefined): RetentionView {
  if (!row) return { periods: KEEP_FOR_EVER, nextRunAt: null, running: null };
  return {
    periods: periodsOf(row),
    nextRunAt: row.nextRunAt.toISOString(),
    running: row.run ? { startedAt: row.run.startedAt, removed: row.run.removed } : null,
  };
}
