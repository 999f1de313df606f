import type { AlertRuleKind } from '../../../../shared/alert-api.ts';
import {
  type Alert,
  CHAIN_RULES,
  type Finding,
  findingFromEvent,
  share,
  watchesChain,
  windowOpen,
} from '../../domain/alerts.ts';
import { capsFor, dayKey } from '../../domain/policy-evaluation.ts';
import { listAgents } from '../../store/agent-store.ts';
import {
  type AlertRuleRow,
  agentWritesOn,
  approvalsUnwritten,
  approvalsWaitingSince,
  claimDueAlertRule,
  insertAlertDeliveries,
  qaErrorCounts,
  rejectionCounts,
  releaseAlertRule,
  takeAlertWindow,
} from '../../store/alert-store.ts';
import type { Tx } from '../../store/database.ts';
import { auditEventsAfter } from '../../store/siem-store.ts';
import { type AuditAppender, newId, type ServiceDeps, withAuditChain } from '../common/index.ts';
import { policyInForce } from '../governance/index.ts';

export interface AlertEvaluation {
  /** Names this process in the rules' leases. */
  holder: string;
  leaseMs: number;
  /** Where the console is reached, without a trailing slash: PUBLIC_URL or the server's own address. */
  consoleUrl: string;
  /** How often a rule that watches a state (rates, waiting approvals, caps) is checked again. */
  checkEveryMs: number;
  /** Audit events a chain rule reads per round. */
  eventsPerRound: number;
}

const SYSTEM_ACTOR = { type: 'system', name: 'alerts' } as const;
const CHAIN_KINDS = Object.keys(CHAIN_RULES) as AlertRuleKind[];

/** The defaults of the rules' parameters (docs/alerts.md). */
const DEFAULT_MIN_COUNT = 5;
const DEFAULT_LOOKBACK_MINUTES = 24 * 60;
const DEFAULT_BUDGET_SHARE = 0.8;

/**
 * Evaluates one rule with something to look at and raises what it finds (issue 22, part 3): the
 * audit events after its cursor, or the state it watches. Returns how many alerts it raised, or
 * undefined when no rule was due. The cursor moves, the windows are taken, the alerts are audited
 * and their deliveries queued in one transaction, so a crash raises each alert once or not yet.
 */
export async function evaluateDueAlertRule(
  deps: ServiceDeps,
  evaluation: AlertEvaluation,
): Promise<number | undefined> {
  const now = deps.clock();
  const rule = await claimDueAlertRule(deps.db, {
    holder: evaluation.holder,
    leaseMs: evaluation.leaseMs,
    now,
    chainKinds: CHAIN_KINDS,
  });
  if (!rule) return undefined;
  let cursorSeq = rule.cursorSeq;
  let findings: Finding[];
  if (watchesChain(rule.kind)) {
    const events = await auditEventsAfter(deps.db, {
      workspaceId: rule.workspaceId,
      afterSeq: rule.cursorSeq,
      limit: evaluation.eventsPerRound,
    });
    cursorSeq = events.at(-1)?.seq ?? cursorSeq;
    findings = events.flatMap((event) => findingFromEvent(rule.kind, event, evaluation.consoleUrl) ?? []);
  } else {
    findings = await stateFindings(deps, rule, evaluation.consoleUrl, now);
  }
  const released = {
    id: rule.id,
    holder: evaluation.holder,
    cursorSeq,
    // A chain rule is due whenever the chain grew; its time only orders it among the due ones.
    nextCheckAt: watchesChain(rule.kind) ? now : new Date(now.getTime() + evaluation.checkEveryMs),
  };
  // Nothing found: the rule moves on without taking the chain lock the agents' writes wait for.
  if (findings.length === 0) {
    await releaseAlertRule(deps.db, released);
    return 0;
  }
  return withAuditChain(deps.db, rule.workspaceId, deps.clock, async (tx, audit) => {
    const held = await releaseAlertRule(tx, released);
    // A lost lease: another server evaluates the rule from the cursor it finds; raise nothing twice.
    if (!held) return 0;
    let raised = 0;
    for (const finding of findings) if (await raise(tx, audit, rule, finding, now)) raised++;
    return raised;
  });
}

/** Raises one finding unless its rule and subject had an alert within the window: audited, and queued per channel. */
async function raise(tx: Tx, audit: AuditAppender, rule: AlertRuleRow, finding: Finding, now: Date): Promise<boolean> {
  const window = await takeAlertWindow(tx, {
    ruleId: rule.id,
    subject: finding.subject,
    now,
    windowOpen: (lastRaisedAt) => windowOpen({ lastRaisedAt, windowMinutes: rule.windowMinutes, now }),
  });
  if (!window.raise) return false;
  const alert: Alert = {
    ruleId: rule.id,
    rule: rule.name,
    kind: rule.kind,
    ...finding,
    raisedAt: now.toISOString(),
    suppressed: window.suppressed,
  };
  audit.append({
    type: 'alert.raised',
    actor: SYSTEM_ACTOR,
    data: { ...alert, channelIds: rule.channelIds },
  });
  await insertAlertDeliveries(
    tx,
    rule.channelIds.map((channelId) => ({
      id: newId(),
      workspaceId: rule.workspaceId,
      channelId,
      alert,
      status: 'pending' as const,
      nextAttemptAt: now,
    })),
  );
  return true;
}

/** What a rule that watches a state finds now. */
async function stateFindings(deps: ServiceDeps, rule: AlertRuleRow, consoleUrl: string, now: Date): Promise<Finding[]> {
  const { workspaceId, params } = rule;
  const since = new Date(now.getTime() - (params.lookbackMinutes ?? DEFAULT_LOOKBACK_MINUTES) * 60_000);
  const minCount = params.minCount ?? DEFAULT_MIN_COUNT;
  const threshold = params.threshold ?? DEFAULT_BUDGET_SHARE;
  const over = (count: number, of: number) => of >= minCount && count / of >= threshold;
  const names = async () => new Map((await listAgents(deps.db, workspaceId)).map((agent) => [agent.id, agent.name]));
  const lookback = `in the last ${formatMinutes(params.lookbackMinutes ?? DEFAULT_LOOKBACK_MINUTES)}`;
  switch (rule.kind) {
    case 'rejection_rate': {
      const agents = await names();
      return (await rejectionCounts(deps.db, { workspaceId, since }))
        .filter((row) => over(row.rejected, row.decided))
        .map((row) => ({
          subject: row.agentId,
          title: 'Agent’s proposals rejected',
          text: `People rejected ${share(row.rejected, row.decided)} of the proposals of agent ${agents.get(row.agentId)} they decided ${lookback} (threshold ${Math.round(threshold * 100)}%).`,
          about: `agent ${agents.get(row.agentId)} (${row.agentId})`,
          link: row.batchId
            ? `${consoleUrl}/batches/${encodeURIComponent(row.batchId)}`
            : `${consoleUrl}/audit?agent=${row.agentId}`,
        }));
    }
    case 'qa_error_rate': {
      const agents = await names();
      return (await qaErrorCounts(deps.db, { workspaceId, since }))
        .filter((row) => over(row.wrong, row.reviewed))
        .map((row) => ({
          subject: row.agentId,
          title: 'Agent’s QA error rate',
          text: `Reviewers found ${share(row.wrong, row.reviewed)} of the sampled writes of agent ${agents.get(row.agentId)} wrong ${lookback} (threshold ${Math.round(threshold * 100)}%).`,
          about: `agent ${agents.get(row.agentId)} (${row.agentId})`,
          link: row.record ? `${consoleUrl}/records/${row.record}` : `${consoleUrl}/audit?agent=${row.agentId}`,
        }));
    }
    case 'approvals_waiting': {
      const hours = params.hours ?? 24;
      const waiting = await approvalsWaitingSince(deps.db, {
        workspaceId,
        before: new Date(now.getTime() - hours * 3_600_000),
      });
      if (waiting.count === 0) return [];
      return [
        {
          subject: 'pending approvals',
          title: 'Approvals waiting',
          text: `${waiting.count} proposal${waiting.count === 1 ? ' has' : 's have'} waited for a decision longer than ${hours} h; the oldest since ${waiting.oldest?.toISOString()}.`,
          about: 'the people who decide approvals',
          link: `${consoleUrl}/inbox`,
        },
      ];
    }
    case 'approvals_unwritten': {
      const hours = params.hours ?? 1;
      const unwritten = await approvalsUnwritten(deps.db, {
        workspaceId,
        approvedBefore: new Date(now.getTime() - hours * 3_600_000),
        staleSince: since,
      });
      if (unwritten.failing + unwritten.stale === 0) return [];
      const parts = [
        unwritten.failing > 0 &&
          `${unwritten.failing} still not written (the CRM refused or could not be reached; retried with backoff)`,
        unwritten.stale > 0 && `${unwritten.stale} not written because the record changed first (stale)`,
      ].filter(Boolean);
      return [
        {
          subject: 'unwritten approvals',
          title: 'Approved values not written',
          text: `Of the approvals people approved more than ${hours} h ago, ${parts.join('; ')}; the oldest approved at ${unwritten.oldest?.toISOString()}.`,
          about: 'the people who approved them',
          link: `${consoleUrl}/inbox`,
        },
      ];
    }
    case 'api_budget':
      return budgetFindings(deps, rule, consoleUrl, now, threshold);
    default:
      return [];
  }
}

/**
 * The budget the server knows: each agent's daily write cap from the policy in force, against the
 * writes counted today in the policy's time zone. One alert per agent and day at most.
 */
async function budgetFindings(
  deps: ServiceDeps,
  rule: AlertRuleRow,
  consoleUrl: string,
  now: Date,
  threshold: number,
): Promise<Finding[]> {
  const policy = await policyInForce(deps.db, rule.workspaceId);
  if (!policy) return [];
  const day = dayKey(now, policy.timezone);
  const used = await agentWritesOn(deps.db, { workspaceId: rule.workspaceId, day });
  const findings: Finding[] = [];
  for (const agent of await listAgents(deps.db, rule.workspaceId)) {
    const cap = capsFor(policy, agent.role).writesPerAgentPerDay;
    const count = used.get(agent.id) ?? 0;
    if (agent.status !== 'active' || cap === undefined || count < cap * threshold) continue;
    findings.push({
      subject: `${agent.id}:${day}`,
      title: 'Daily write budget nearly spent',
      text: `Agent ${agent.name} has used ${share(count, cap)} of its daily cap of ${cap} writes on ${day}; further writes are refused once it is reached.`,
      about: `agent ${agent.name} (${agent.id})`,
      link: `${consoleUrl}/audit?agent=${agent.id}`,
    });
  }
  return findings;
}

function formatMinutes(minutes: number): string {
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}
