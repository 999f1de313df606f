import type { OverviewQuery, OverviewView } from '../../../../shared/console-settings-api.ts';
import {
  agentNames,
  approvalOutcomesByAgent,
  auditEventsPerDay,
  decisionsPerDay,
  killSwitchesEngagedBy,
  qaOutcomesByAgent,
  topAppliedProperties,
} from '../../store/overview-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { requirePermission, type ExtensionCaller } from '../extension/index.ts';
import { TRIGGER_ACTOR } from '../governance/index.ts';

const DAY_MS = 86_400_000;
const TOP_PROPERTIES = 10;
const KILL_TRIGGER_EVENTS = 20;
const OUTCOMES = ['applied', 'pending_approval', 'denied', 'failed'] as const;

/** The Overview's charts (issue 19): the database aggregates, this only shapes and names. */
export async function overviewView(
  deps: ServiceDeps,
  { workspace, caller }: ExtensionCaller,
  query: OverviewQuery,
): Promise<OverviewView> {
  requirePermission(caller, caller.permissions.searchAudit, 'see the overview');
  const today = Math.floor(deps.clock().getTime() / DAY_MS) * DAY_MS;
  const since = new Date(today - (query.days - 1) * DAY_MS);
  const [decisions, approvals, qa, names, properties, bypass, triggers] = await Promise.all([
    decisionsPerDay(deps.db, workspace.id, since),
    approvalOutcomesByAgent(deps.db, workspace.id, since),
    qaOutcomesByAgent(deps.db, workspace.id, since),
    agentNames(deps.db, workspace.id),
    topAppliedProperties(deps.db, workspace.id, since, TOP_PROPERTIES),
    auditEventsPerDay(deps.db, workspace.id, 'crm.bypass_write', since),
    killSwitchesEngagedBy(deps.db, workspace.id, TRIGGER_ACTOR.name, since, KILL_TRIGGER_EVENTS),
  ]);
  const days = Array.from({ length: query.days }, (_, index) => new Date(since.getTime() + index * DAY_MS));
  const perDay = days.map((date) => ({
    day: date.toISOString().slice(0, 10),
    applied: 0,
    pending_approval: 0,
    denied: 0,
    failed: 0,
  }));
  const dayIndex = new Map(perDay.map((row, index) => [row.day, index]));
  for (const row of decisions) {
    const at = dayIndex.get(row.day);
    const outcome = OUTCOMES.find((name) => name === row.decision);
    if (at !== undefined && outcome) perDay[at]![outcome] += row.count;
  }
  const bypassByDay = new Map(bypass.map((row) => [row.day, row.count]));
  const approvalsOf = new Map(approvals.map((row) => [row.agentId, row]));
  const qaOf = new Map(qa.map((row) => [row.agentId, row]));
  return {
    since: since.toISOString(),
    decisionsPerDay: perDay,
    agents: names
      .map(({ id, name }) => {
        const decided = approvalsOf.get(id)?.decided ?? 0;
        const rejected = approvalsOf.get(id)?.rejected ?? 0;
        const qaReviewed = qaOf.get(id)?.reviewed ?? 0;
        const qaWrong = qaOf.get(id)?.wrong ?? 0;
        return {
          agentId: id,
          name,
          decided,
          rejected,
          rejectionRate: decided > 0 ? rejected / decided : null,
          qaReviewed,
          qaWrong,
          qaErrorRate: qaReviewed > 0 ? qaWrong / qaReviewed : null,
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name)),
    topProperties: properties,
    bypassWritesPerDay: perDay.map(({ day }) => ({ day, count: bypassByDay.get(day) ?? 0 })),
    killTriggerEvents: triggers.map((row) => ({ ...row, occurredAt: row.occurredAt.toISOString() })),
  };
}
