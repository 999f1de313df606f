import { type ActionDecisionRequest, type ActionView, draftEditSchemas } from '../../../../shared/action-api.ts';
import type { ContactFields } from '../../../../shared/crm-names.ts';
import { decideDraft, stopRuleProperties } from '../../domain/action-drafts.ts';
import type { RefusalCode } from '../../domain/approval-lifecycle.ts';
import type { CrmRecordValues } from '../../crm/port.ts';
import { AppError } from '../../errors.ts';
import type { SecretBox } from '../../secrets.ts';
import { lockAction, updateAction, type ActionRow } from '../../store/action-store.ts';
import type { Tx } from '../../store/database.ts';
import { findPerson } from '../../store/people-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import {
  actionEvent,
  contentOf,
  loadActionView,
  requireAction,
  executeReleasedAction,
  releaseChange,
  assertDraftTextFits,
  currentStopReason,
} from '../actions/index.ts';
import type { DecidingPerson } from './decide-approval.ts';
import { actorJson, type Actor, type ServiceDeps, withAuditChain, type AuditAppender } from '../common/index.ts';
import { readableMessage } from '../../../../shared/zod-issues.ts';

type DecisionRefusal = RefusalCode | 'person_unknown';
/** Who may decide answers 403; what state the draft is in answers 409, as for approvals. */
const STATE_REFUSALS: ReadonlySet<DecisionRefusal> = new Set([
  'approval_not_pending',
  'approval_expired',
  'unknown_property',
]);

export interface DecideActionInput {
  workspace: WorkspaceRow;
  actionId: string;
  request: ActionDecisionRequest;
  /** Where the person decided: audited on the actor. */
  via: 'admin_api' | 'hubspot_app' | 'console';
  /** As in decideApproval: the HubSpot app's resolved person (their own role or their team's); otherwise looked up in `people`. */
  person?: DecidingPerson;
}

export type DraftOutcome = { ok: true; released: boolean } | { ok: false; code: DecisionRefusal; message: string };

/**
 * A person's decision on a held draft, under the workspace's chain lock and the draft's row
 * lock: their role comes from `people`, the rules from the approval state machine. An email is
 * checked against the stop rules again before release (the contact may have opted out or
 * replied while it waited); a released task or note is then created in the CRM.
 */
export async function decideAction(deps: ServiceDeps, input: DecideActionInput): Promise<ActionView> {
  const { workspace, actionId, request } = input;
  const found = await requireAction(deps.db, workspace.id, actionId);
  const edits = request.kind === 'approve' ? request.edits : undefined;
  if (edits) {
    assertEditsFitDraft(found.kind, edits);
    // An edit is held to what the record's CRM keeps, as the agent's text was at submission.
    assertDraftTextFits(deps.crmFor(workspace).forObject(found.objectType), found.kind, edits);
  }
  const contacts =
    request.kind === 'approve' ? await readEmailContacts(deps, workspace, [found]) : new Map<string, CrmRecordValues>();

  const outcome = await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit): Promise<DraftOutcome> => {
    const row = await lockAction(tx, workspace.id, actionId);
    if (!row) throw new AppError('NOT_FOUND', `There is no action ${actionId} in this workspace.`);
    const person = input.person ?? (await findPerson(tx, workspace.id, request.actingUserId));
    return decideLockedAction(tx, audit, deps.secrets, {
      row,
      person,
      request,
      via: input.via,
      contact: contacts.get(row.recordId) ?? {},
      contactFields: deps.crmFor(workspace).forObject(row.objectType).contactFields,
      now: deps.clock(),
    });
  });

  if (!outcome.ok) {
    const code = STATE_REFUSALS.has(outcome.code) ? 'APPROVAL_NOT_DECIDABLE' : 'APPROVAL_DECISION_FORBIDDEN';
    throw new AppError(code, outcome.message, { details: { refusal: outcome.code } });
  }
  if (outcome.released) await executeReleasedAction(deps, workspace, actionId);
  return loadActionView(deps.db, await requireAction(deps.db, workspace.id, actionId));
}

export interface LockedActionDecision {
  /** The draft, locked by the caller for the rest of the transaction. */
  row: ActionRow;
  person: DecidingPerson | undefined;
  request: ActionDecisionRequest;
  via: 'admin_api' | 'hubspot_app' | 'console';
  /**
   * An email's contact as the stop rules read it at release: its opt-out properties and addresses;
   * undefined when it is not read again (the address was checked at submission).
   */
  contact: Readonly<Record<string, string | null>> | undefined;
  /** Where the draft's record's own CRM keeps them. */
  contactFields: ContactFields;
  now: Date;
  /** Set when the decision is one of a batch: the manifest event names it. */
  batchDecisionId?: string;
}

/**
 * Decides a locked draft and audits it, inside the caller's transaction (the API's, or the
 * webhook processor's for a status set in HubSpot). A released task or note is the caller's to
 * create once the transaction commits (`released`).
 */
export async function decideLockedAction(
  tx: Tx,
  audit: AuditAppender,
  secrets: SecretBox,
  input: LockedActionDecision,
): Promise<DraftOutcome> {
  const { row, person, request, now } = input;
  const actor: Actor = {
    type: 'person',
    name: `crm-user:${request.actingUserId}`,
    crmUserId: request.actingUserId,
    role: person?.role ?? null,
    via: input.via,
  };
  if (!person) {
    return refuse(audit, row, actor, request.kind, {
      code: 'person_unknown',
      message: `CRM user ${request.actingUserId} has no role in this workspace; an admin gives one with PUT /v1/admin/people/:crmUserId.`,
    });
  }
  if (row.status !== 'pending' || (row.tier !== 'approval' && row.tier !== 'two_person') || row.expiresAt === null) {
    return refuse(audit, row, actor, request.kind, {
      code: 'approval_not_pending',
      message: `This action is ${row.status}; it can no longer be decided.`,
    });
  }
  const edits = request.kind === 'approve' ? request.edits : undefined;
  const current = contentOf(row).released;
  const edited: Record<string, string> | undefined = edits ? { ...current, ...definedFields(edits) } : undefined;
  const editsContent = edited !== undefined && Object.keys(edited).some((field) => edited[field] !== current[field]);
  const by = { userId: person.crmUserId, role: person.role, ownerId: person.crmOwnerId };
  const draft = {
    tier: row.tier,
    expiresAt: row.expiresAt,
    recordOwnerId: row.recordOwnerId,
    delegatedUserId: row.delegatedUserId,
    approvedBy: row.approvedBy,
  };
  const transition = decideDraft(
    draft,
    request.kind === 'approve' ? { kind: 'approve', by, editsContent } : { kind: 'reject', by },
    now,
  );
  if (!transition.ok) {
    const refused = refuse(audit, row, actor, request.kind, transition);
    if (transition.expired) {
      // The sweep would expire it anyway; doing it now keeps what the caller reads next true.
      await updateAction(tx, row.workspaceId, row.id, {
        status: 'expired',
        decidedAt: now,
        message: 'Nobody decided before the draft expired.',
      });
      audit.append(
        actionEvent(row, {
          type: 'action.expired',
          actor: actorJson(actor),
          data: { expiresAt: row.expiresAt.toISOString() },
        }),
      );
    }
    return refused;
  }

  const who = actorJson(actor);
  const batch: Record<string, string> = input.batchDecisionId ? { batchDecisionId: input.batchDecisionId } : {};
  if (request.kind === 'reject') {
    await updateAction(tx, row.workspaceId, row.id, {
      status: 'rejected',
      decidedAt: now,
      decidedBy: [person.crmUserId],
      message: request.reason,
    });
    audit.append(
      actionEvent(row, {
        type: 'action.rejected',
        actor: who,
        before: current,
        data: { ...batch, reason: request.reason },
      }),
    );
    return { ok: true, released: false };
  }
  const content = editsContent && edited ? edited : current;
  await updateAction(tx, row.workspaceId, row.id, {
    approvedBy: transition.approvedBy,
    ...(editsContent ? { editedContent: content } : {}),
  });
  audit.append(
    actionEvent(row, {
      type: 'action.approved',
      actor: who,
      // Both versions when a person edited: what stood before and what they approved.
      before: current,
      after: content,
      data: { ...batch, edited: editsContent, approvedBy: transition.approvedBy, status: transition.status },
    }),
  );
  if (transition.status !== 'released') return { ok: true, released: false };

  const stopped =
    row.kind === 'send_email'
      ? await currentStopReason(tx, {
          workspaceId: row.workspaceId,
          objectType: row.objectType,
          contactId: row.recordId,
          to: input.contact === undefined ? undefined : (row.recipientEmail ?? ''),
          contact: input.contact ?? {},
          fields: input.contactFields,
        })
      : undefined;
  if (stopped) {
    await updateAction(tx, row.workspaceId, row.id, {
      status: 'stopped',
      decidedAt: now,
      decidedBy: transition.approvedBy,
      reasons: [...row.reasons, stopped],
      message: 'Approved, but a stop rule now forbids emailing this contact.',
    });
    audit.append(
      actionEvent(row, { type: 'action.refused', actor: who, reasons: [stopped], data: { stage: 'release' } }),
    );
    return { ok: true, released: false };
  }
  const release = releaseChange(
    secrets,
    { kind: row.kind, content: row.content, editedContent: editsContent ? content : row.editedContent },
    now,
  );
  await updateAction(tx, row.workspaceId, row.id, { ...release, decidedAt: now, decidedBy: transition.approvedBy });
  audit.append(
    actionEvent(row, {
      type: 'action.released',
      actor: who,
      data: { approvedBy: transition.approvedBy, contentHash: release.contentHash ?? null },
    }),
  );
  return { ok: true, released: true };
}

/**
 * The contacts of these drafts' emails as the stop rules read them at release, by record id, each
 * from its own CRM (issue 20: a portal's contacts and an org's; their ids never collide). Read
 * before the decision's transaction: a CRM call must not hold the workspace's chain. A contact
 * deleted while the draft waited is absent: no address to send to.
 */
export async function readEmailContacts(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  rows: readonly ActionRow[],
): Promise<Map<string, CrmRecordValues>> {
  const emails = rows.filter((row) => row.kind === 'send_email');
  const contacts = new Map<string, CrmRecordValues>();
  for (const [objectType, ofType] of Map.groupBy(emails, (row) => row.objectType)) {
    const crm = deps.crmFor(workspace).forObject(objectType);
    const recordIds = [...new Set(ofType.map((row) => row.recordId))];
    const perRead = crm.readBatchLimit ?? crm.batchLimit;
    for (let i = 0; i < recordIds.length; i += perRead) {
      const read = await crm.readBatch({
        objectType: crm.contactObjectType,
        recordIds: recordIds.slice(i, i + perRead),
        properties: stopRuleProperties(crm.contactFields),
      });
      for (const [recordId, values] of read) contacts.set(recordId, values);
    }
  }
  return contacts;
}

function definedFields(edits: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(edits).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function refuse(
  audit: AuditAppender,
  row: ActionRow,
  actor: Actor,
  kind: string,
  refusal: { code: DecisionRefusal; message: string },
): DraftOutcome {
  audit.append(
    actionEvent(row, {
      type: 'action.decision_refused',
      actor: actorJson(actor),
      reasons: [refusal.code],
      data: { decision: kind, refusal: refusal.code, message: refusal.message },
    }),
  );
  return { ok: false, code: refusal.code, message: refusal.message };
}

/** An edit names only fields its kind of draft has, each within the bounds the agent's draft was held to. */
function assertEditsFitDraft(kind: ActionRow['kind'], edits: Record<string, string | undefined>): void {
  const schema = draftEditSchemas[kind];
  const editable = Object.keys(schema.shape);
  const stray = Object.keys(edits).filter((field) => !editable.includes(field));
  if (stray.length > 0)
    throw new AppError(
      'VALIDATION_FAILED',
      `A ${kind} draft cannot have its ${stray.join(' or ')} edited; editable: ${editable.join(', ')}.`,
    );
  const bounded = schema.safeParse(edits, { error: readableMessage });
  if (bounded.success) return;
  const issues = bounded.error.issues.map((issue) => ({
    path: `edits.${issue.path.join('.')}`,
    message: issue.message,
  }));
  throw new AppError('VALIDATION_FAILED', `The edited draft is invalid: ${issues[0]!.path} ${issues[0]!.message}`, {
    details: { issues },
  });
}
