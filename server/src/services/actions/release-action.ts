import type { ObjectType } from '../../../../shared/crm-names.ts';
import { contentHash } from '../../domain/action-drafts.ts';
import type { SecretBox } from '../../secrets.ts';
import { findAction, updateAction, type ActionChange, type ActionRow } from '../../store/action-store.ts';
import { findWorkspace, type WorkspaceRow } from '../../store/workspace-store.ts';
import { actionEvent } from './action-audit.ts';
import { contentOf } from './action-view.ts';
import { type ServiceDeps, withAuditChain } from '../common/index.ts';
import { describeSwitch } from '../../domain/kill-switch-scope.ts';
import { engagedKillSwitch, switchStoppingDraft } from '../governance/index.ts';
import { issueReleaseToken } from './release-token.ts';

/** What scoped kill switches look at on a stored draft. */
export function draftSubject(row: ActionRow) {
  return {
    agentId: row.agentId,
    action: row.kind,
    objectType: row.objectType as ObjectType,
    recordId: row.recordId,
    recipientEmail: row.recipientEmail,
    template: row.template,
    evidenceSource: (row.evidence as { source?: string } | null)?.source,
  };
}

const EXECUTOR = { type: 'system', name: 'action-executor' } as const;

/**
 * The columns that release a draft as it now stands. An email gets a release token for the agent
 * (it sends the email itself); a task or a note is created by this server, so needs none.
 */
export function releaseChange(
  secrets: SecretBox,
  row: { kind: ActionRow['kind']; content: unknown; editedContent?: unknown },
  now: Date,
): ActionChange {
  const change: ActionChange = {
    status: 'released',
    releasedAt: now,
    contentHash: contentHash(contentOf(row).released),
  };
  if (row.kind !== 'send_email') return change;
  const token = issueReleaseToken(secrets);
  return { ...change, releaseTokenHash: token.hash, releaseTokenSealed: token.sealed };
}

/**
 * Creates a released task or note in the CRM and marks the action completed. A kill switch or a
 * CRM failure leaves it `released` with the reason in `message` and an audit event; nothing
 * retries it yet. Each action is released once (under its row lock), so this runs once for it.
 */
export async function executeReleasedAction(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  actionId: string,
): Promise<void> {
  const row = await findAction(deps.db, workspace.id, actionId);
  if (!row || row.kind === 'send_email' || row.status !== 'released' || row.crmObjectId !== null) return;
  const killed =
    (await engagedKillSwitch(deps.db, { workspaceId: workspace.id, agentId: row.agentId, action: row.kind })) ??
    (await switchStoppingDraft(deps, workspace, draftSubject(row)));
  if (killed)
    return recordFailure(
      deps,
      row,
      `Not created: the ${describeSwitch({ scope: killed.scope, target: killed.target ?? '' })} kill switch is engaged (${killed.reason}).`,
    );

  const content = contentOf(row).released;
  const objectType = row.objectType as ObjectType;
  let created: { id: string };
  try {
    created =
      row.kind === 'create_note'
        ? await deps
            .crmFor(workspace)
            .createNote({ objectType, recordId: row.recordId, body: content['body'] ?? '', timestamp: deps.clock() })
        : await deps.crmFor(workspace).createTask({
            objectType,
            recordId: row.recordId,
            subject: content['subject'] ?? '',
            body: content['body'],
            // HubSpot needs a due date; without one the task is due when it is released.
            dueAt: content['dueAt'] ? new Date(content['dueAt']) : (row.releasedAt ?? deps.clock()),
            priority: content['priority'] as 'LOW' | 'MEDIUM' | 'HIGH' | undefined,
          });
  } catch (error) {
    return recordFailure(
      deps,
      row,
      `Not created in the CRM: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    await updateAction(tx, workspace.id, row.id, { status: 'completed', crmObjectId: created.id, message: null });
    audit.append(
      actionEvent(row, {
        type: 'action.completed',
        actor: EXECUTOR,
        before: { status: 'released' },
        after: { status: 'completed' },
        data: { crmObjectId: created.id },
      }),
    );
  });
}

/** Creates the tasks and notes people released elsewhere (on the approval object in HubSpot), after that transaction committed. */
export async function executeReleasedActions(
  deps: ServiceDeps,
  workspaceId: string,
  actionIds: readonly string[],
): Promise<void> {
  if (actionIds.length === 0) return;
  const workspace = await findWorkspace(deps.db, workspaceId);
  if (!workspace) return;
  for (const id of actionIds) await executeReleasedAction(deps, workspace, id);
}

async function recordFailure(deps: ServiceDeps, row: ActionRow, message: string): Promise<void> {
  await withAuditChain(deps.db, row.workspaceId, deps.clock, async (tx, audit) => {
    await updateAction(tx, row.workspaceId, row.id, { message });
    audit.append(actionEvent(row, { type: 'action.execute_failed', actor: EXECUTOR, data: { message } }));
  });
}
