import { DELIVERY_OUTCOMES, type ActionOutcomeRequest, type ActionView } from '../../../../shared/action-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import { STOP_REASON_CODES, type ContactStopReason } from '../../domain/action-drafts.ts';
import { AppError } from '../../errors.ts';
import {
  addContactStop,
  findAction,
  insertOutcome,
  listOutcomes,
  lockAction,
  lockOpenEmailsTo,
  markActionMirrorDue,
  setOutcomeNote,
  updateAction,
  type ActionRow,
} from '../../store/action-store.ts';
import type { AgentRow } from '../../store/agent-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { actionEvent } from './action-audit.ts';
import { agentActionView, contentOf, requireAction } from './action-view.ts';
import { actorJson, type Actor, type ServiceDeps, isUuid, newId, withAuditChain } from '../common/index.ts';
import { releaseTokenMatches } from './release-token.ts';

export interface ReportOutcomeInput {
  agent: AgentRow;
  workspace: WorkspaceRow;
  actionId: string;
  request: ActionOutcomeRequest;
}

/** What an outcome tells about the contact: a reply, an unsubscribe, a hard bounce or a spam complaint stops it for every agent. */
function stopOf(request: ActionOutcomeRequest): ContactStopReason | undefined {
  if (request.outcome === 'bounced') return request.bounceType === 'hard' ? 'hard_bounced' : undefined;
  return request.outcome === 'replied' || request.outcome === 'unsubscribed' || request.outcome === 'complained'
    ? request.outcome
    : undefined;
}

const STOP_WORDS: Record<ContactStopReason, string> = {
  replied: 'replied',
  unsubscribed: 'unsubscribed',
  hard_bounced: 'bounced hard',
  complained: 'marked an email as spam',
};

/**
 * The agent reports what became of an email it was released to send. A delivery outcome (sent,
 * bounced, failed) needs the release token and is then logged as a note on the contact's
 * timeline; a reply, an unsubscribe, a hard bounce or a spam complaint puts the contact on the
 * stop list (suppressed for every agent, audited) and stops every other email to it that is still
 * held or released. Reporting the same outcome again changes nothing.
 */
export async function reportActionOutcome(deps: ServiceDeps, input: ReportOutcomeInput): Promise<ActionView> {
  const { agent, workspace, actionId, request } = input;
  const found = await requireOwnAction(deps, input);
  if (found.kind !== 'send_email') {
    throw new AppError(
      'CONFLICT',
      `This server creates ${found.kind === 'create_task' ? 'tasks' : 'notes'} itself once released; only emails take outcome reports.`,
    );
  }
  const delivery = (DELIVERY_OUTCOMES as readonly string[]).includes(request.outcome);
  const actor: Actor = { type: 'agent', agentId: agent.id, name: agent.name, role: agent.role };

  const recorded = await withAuditChain(
    deps.db,
    workspace.id,
    deps.clock,
    async (tx, audit): Promise<{ outcomeId: string } | undefined> => {
      const row = await lockAction(tx, workspace.id, actionId);
      if (!row) throw new AppError('NOT_FOUND', `There is no action ${actionId} for this agent.`);
      const earlier = (await listOutcomes(tx, workspace.id, [row.id])).get(row.id) ?? [];
      if (earlier.some((outcome) => outcome.outcome === request.outcome)) return undefined;
      if (delivery) {
        // A bounce may arrive after the provider first said sent.
        const open = row.status === 'released' || (row.status === 'sent' && request.outcome === 'bounced');
        if (!open)
          throw new AppError('CONFLICT', `This email is ${row.status}; it cannot be reported ${request.outcome} now.`, {
            details: { status: row.status },
          });
        if (!releaseTokenMatches(request.releaseToken ?? '', row.releaseTokenHash)) {
          throw new AppError(
            'FORBIDDEN',
            'The release token does not match this email; read it again with GET /v1/actions/:id.',
          );
        }
      } else if (row.status !== 'sent') {
        throw new AppError(
          'CONFLICT',
          `This email is ${row.status}; a ${request.outcome} can only follow one that was sent.`,
          { details: { status: row.status } },
        );
      }

      const now = deps.clock();
      const outcomeId = newId();
      const who = actorJson(actor);
      await insertOutcome(tx, {
        id: outcomeId,
        workspaceId: workspace.id,
        actionId: row.id,
        outcome: request.outcome,
        providerMessageId: request.providerMessageId ?? null,
        detail: request.detail ?? null,
        reportedAt: now,
      });
      if (delivery)
        await updateAction(tx, workspace.id, row.id, { status: request.outcome as 'sent' | 'bounced' | 'failed' });
      // A reply or an unsubscribe leaves the email as it was, but its approval object shows the outcomes.
      else await markActionMirrorDue(tx, workspace.id, row.id);
      audit.append(
        actionEvent(row, {
          type: 'action.outcome',
          actor: who,
          ...(delivery ? { before: { status: row.status }, after: { status: request.outcome } } : {}),
          data: {
            outcome: request.outcome,
            providerMessageId: request.providerMessageId ?? null,
            detail: request.detail ?? null,
            ...(request.bounceType ? { bounceType: request.bounceType } : {}),
          },
        }),
      );
      const stop = stopOf(request);
      if (stop) {
        const added = await addContactStop(tx, {
          workspaceId: workspace.id,
          contactId: row.recordId,
          reason: stop,
          actionId: row.id,
          createdAt: now,
        });
        const reason = STOP_REASON_CODES[stop];
        if (added)
          audit.append({
            type: 'contact.suppressed',
            actor: who,
            agentId: row.agentId,
            objectType: row.objectType,
            recordId: row.recordId,
            reasons: [reason],
            data: { stop, actionId: row.id },
          });
        for (const open of await lockOpenEmailsTo(tx, workspace.id, row.recordId)) {
          await updateAction(tx, workspace.id, open.id, {
            status: 'stopped',
            reasons: [...open.reasons, reason],
            message: `The contact ${STOP_WORDS[stop]}; no further email goes to them.`,
          });
          audit.append(
            actionEvent(open, {
              type: 'action.stopped',
              actor: who,
              reasons: [reason],
              before: { status: open.status },
              after: { status: 'stopped' },
              data: { becauseOf: row.id },
            }),
          );
        }
      }
      return delivery ? { outcomeId } : undefined;
    },
  );

  if (recorded)
    await logOnTimeline(deps, {
      workspace,
      agent,
      row: await requireAction(deps.db, workspace.id, actionId),
      outcomeId: recorded.outcomeId,
      request,
    });
  return agentActionView(deps, await requireAction(deps.db, workspace.id, actionId));
}

/** Only the agent that submitted an action reads it or reports on it; to any other it does not exist. */
export async function requireOwnAction(
  deps: ServiceDeps,
  input: { agent: AgentRow; workspace: WorkspaceRow; actionId: string },
): Promise<ActionRow> {
  const row = isUuid(input.actionId) ? await findAction(deps.db, input.workspace.id, input.actionId) : undefined;
  // Another agent's draft answers as an unknown id does, so its existence is not revealed either.
  if (row?.agentId !== input.agent.id)
    throw new AppError('NOT_FOUND', `There is no action ${input.actionId} for this agent.`);
  return row;
}

/**
 * The delivery outcome as a note on the contact's timeline, after the outcome is stored: a CRM
 * failure loses no outcome, it is audited and said in `message`.
 */
async function logOnTimeline(
  deps: ServiceDeps,
  input: { workspace: WorkspaceRow; agent: AgentRow; row: ActionRow; outcomeId: string; request: ActionOutcomeRequest },
): Promise<void> {
  const { workspace, row } = input;
  const system = { type: 'system', name: 'action-timeline' } as const;
  try {
    const note = await deps.crmFor(workspace).createNote({
      objectType: row.objectType as ObjectType,
      recordId: row.recordId,
      body: timelineText(input),
      timestamp: deps.clock(),
    });
    await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
      await setOutcomeNote(tx, workspace.id, input.outcomeId, note.id);
      audit.append(
        actionEvent(row, {
          type: 'action.logged',
          actor: system,
          data: { outcome: input.request.outcome, crmNoteId: note.id },
        }),
      );
    });
  } catch (error) {
    const message = `The ${input.request.outcome} outcome is recorded but could not be logged on the record's timeline: ${error instanceof AppError ? error.message : 'an unexpected error.'}`;
    await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
      await updateAction(tx, workspace.id, row.id, { message });
      audit.append(
        actionEvent(row, {
          type: 'action.log_failed',
          actor: system,
          data: { outcome: input.request.outcome, message },
        }),
      );
    });
  }
}

function timelineText(input: { agent: AgentRow; row: ActionRow; request: ActionOutcomeRequest }): string {
  const { agent, row, request } = input;
  const content = contentOf(row).released;
  const approval =
    row.approvedBy.length > 0
      ? `approved by CRM user${row.approvedBy.length > 1 ? 's' : ''} ${row.approvedBy.join(' and ')}`
      : 'released by the policy without review';
  const lines = [
    `Email ${request.outcome} by agent ${agent.name} (Agent Governance), ${approval}${row.editedContent ? ', after a person edited it' : ''}.`,
    `To: ${content['to'] ?? ''}`,
    `Subject: ${content['subject'] ?? ''}`,
    ...(request.providerMessageId ? [`Provider message id: ${request.providerMessageId}`] : []),
    ...(request.detail ? [`Detail: ${request.detail}`] : []),
    '',
    content['body'] ?? '',
  ];
  return lines.join('\n');
}
