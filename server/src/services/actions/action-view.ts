import type { ActionView } from '../../../../shared/action-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { ReasonCode } from '../../../../shared/reason-codes.ts';
import { releasedContent } from '../../domain/action-drafts.ts';
import { AppError } from '../../errors.ts';
import {
  findAction,
  listActions,
  listOutcomes,
  type ActionFilter,
  type ActionRow,
  type OutcomeRow,
} from '../../store/action-store.ts';
import type { Db } from '../../store/database.ts';
import { type ServiceDeps, isUuid } from '../common/index.ts';

type Content = Record<string, string>;

/** Statuses in which an email was released to be sent: its token still verifies afterwards. */
export const RELEASED_STATUSES: readonly ActionRow['status'][] = ['released', 'sent', 'bounced', 'failed'];

export function contentOf(row: { content: unknown; editedContent?: unknown }): {
  proposed: Content;
  edited: Content | null;
  released: Content;
} {
  const proposed = row.content as Content;
  const edited = (row.editedContent as Content | null) ?? null;
  return { proposed, edited, released: releasedContent(proposed, edited) };
}

/** What people see (admin API). The agent's view adds the released content and the token. */
export function actionView(row: ActionRow, outcomes: readonly OutcomeRow[]): ActionView {
  const { proposed, edited } = contentOf(row);
  return {
    id: row.id,
    kind: row.kind,
    objectType: row.objectType as ObjectType,
    recordId: row.recordId,
    agentId: row.agentId,
    policyVersion: row.policyVersion,
    tier: row.tier,
    status: row.status,
    reasons: row.reasons as ReasonCode[],
    proposed,
    edited,
    approvedBy: row.approvedBy,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    decidedAt: row.decidedAt?.toISOString() ?? null,
    releasedAt: row.releasedAt?.toISOString() ?? null,
    contentHash: row.contentHash,
    crmObjectId: row.crmObjectId,
    message: row.message,
    outcomes: outcomes.map((outcome) => ({
      outcome: outcome.outcome,
      providerMessageId: outcome.providerMessageId,
      detail: outcome.detail,
      crmNoteId: outcome.crmNoteId,
      reportedAt: outcome.reportedAt.toISOString(),
    })),
  };
}

/** A malformed id, an unknown one and another workspace's all answer the same 404: ids do not leak across workspaces. */
export async function requireAction(db: Db, workspaceId: string, actionId: string): Promise<ActionRow> {
  const row = isUuid(actionId) ? await findAction(db, workspaceId, actionId) : undefined;
  if (!row) throw new AppError('NOT_FOUND', `There is no action ${actionId} in this workspace.`);
  return row;
}

export async function loadActionView(db: Db, row: ActionRow): Promise<ActionView> {
  const outcomes = await listOutcomes(db, row.workspaceId, [row.id]);
  return actionView(row, outcomes.get(row.id) ?? []);
}

export async function getActionForAdmin(deps: ServiceDeps, workspaceId: string, actionId: string): Promise<ActionView> {
  return loadActionView(deps.db, await requireAction(deps.db, workspaceId, actionId));
}

export async function findActions(deps: ServiceDeps, workspaceId: string, filter: ActionFilter): Promise<ActionView[]> {
  const rows = await listActions(deps.db, workspaceId, filter);
  const outcomes = await listOutcomes(
    deps.db,
    workspaceId,
    rows.map((row) => row.id),
  );
  return rows.map((row) => actionView(row, outcomes.get(row.id) ?? []));
}

/** The agent's view of its own action: once an email is released, what to send and the token that proves it was. */
export async function agentActionView(deps: ServiceDeps, row: ActionRow): Promise<ActionView> {
  const view = await loadActionView(deps.db, row);
  if (row.kind !== 'send_email' || row.status !== 'released' || row.releaseTokenSealed === null) return view;
  return { ...view, released: contentOf(row).released, releaseToken: deps.secrets.open(row.releaseTokenSealed) };
}
