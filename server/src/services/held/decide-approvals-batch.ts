import type { ActionDecisionRequest } from '../../../../shared/action-api.ts';
import {
  type APPROVAL_KINDS,
  BATCH_DECISION_MAX,
  type BatchApprovalDecisionRequest,
  type BatchDecisionResult,
  type HELD_ENTRY_KINDS,
} from '../../../../shared/approval-api.ts';
import type { CrmRecordValues } from '../../crm/port.ts';
import { draftApprovalStatus } from '../../domain/approval-mirror.ts';
import { AppError } from '../../errors.ts';
import { findHeldDrafts, lockHeldDrafts } from '../../store/action-store.ts';
import { lockApprovals, saveTransitions, statusesOf, type TransitionWrite } from '../../store/approval-store.ts';
import type { Tx } from '../../store/database.ts';
import { findPerson } from '../../store/people-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import { applyApprovals } from './apply-approval.ts';
import { decideLockedAction, readEmailContacts, type DraftOutcome } from './decide-action.ts';
import { decideLocked, type DecidingPerson, type Outcome } from './decide-approval.ts';
import { findHeldEntries } from './held-entries.ts';
import {
  type AnswerWhen,
  type AuditAppender,
  type ServiceDeps,
  newId,
  withAuditChain,
  writeNowOrBehind,
} from '../common/index.ts';
import { checkRejectionRate } from '../governance/index.ts';
import { executeReleasedAction } from '../actions/index.ts';

type EntryKind = (typeof HELD_ENTRY_KINDS)[number];
type Decided =
  | { kind: 'field_change'; outcome: Outcome }
  | { kind: 'draft'; outcome: DraftOutcome }
  | { kind: EntryKind; outcome: EntryOutcome };
type ApprovalKind = (typeof APPROVAL_KINDS)[number] | EntryKind;
type BatchStatus = BatchDecisionResult['results'][number]['status'];

/** A held creation's or association's outcome in a batch: decided, or refused as its own route would refuse it. */
export type EntryOutcome = { ok: true } | { ok: false; code: string; message: string };

/**
 * Held creations and associations in a batch decision (issue 21), decided by their own routes'
 * rules. The change sets feature, which creates and links records, supplies this.
 */
export interface BatchedEntries {
  /**
   * In the batch's transaction, after its approvals and drafts: locks those of `ids` that are held
   * creations or associations of the workspace and decides each (audited as alone, with the batch's
   * id). Gives each one's kind and outcome, and the work that applies those approved enough.
   */
  decide(
    deps: ServiceDeps,
    tx: Tx,
    audit: AuditAppender,
    input: {
      workspace: WorkspaceRow;
      ids: readonly string[];
      request: { kind: 'approve'; actingUserId: string } | { kind: 'reject'; actingUserId: string; reason: string };
      via: 'admin_api' | 'hubspot_app' | 'console';
      person: DecidingPerson | undefined;
      now: Date;
      batchDecisionId: string;
    },
  ): Promise<{ outcomes: Map<string, { kind: EntryKind; outcome: EntryOutcome }>; apply: () => Promise<void> }>;
}

/**
 * One person decides many approvals in one transaction: held field changes, drafts, creations and
 * associations alike, each locked and decided by the same rules as a single decision of its kind
 * (and audited as one), refusals reported per approval rather than failing the batch, and one
 * `approval.batch_decided` event records the manifest. Afterwards the approved field changes
 * are written to the CRM in batches of 100 and the approved creations and associations made
 * (before answering, or behind the answer when the caller asks for `answer: 'decided'`), and
 * released tasks and notes are created. `entries` decides the creations and associations.
 */
export async function decideApprovalsBatch(
  deps: ServiceDeps,
  input: {
    workspace: WorkspaceRow;
    request: BatchApprovalDecisionRequest;
    via:
      | 'admin_api'
      | 'hubspot_app'
      | 'console' /** As in decideApproval: the HubSpot app's or the console's resolved person. */;
    person?: DecidingPerson;
    /**
     * As in decideApproval: `decided` answers once the decisions are stored and writes the approved
     * field changes behind the answer (the console, whose person waits for the rows to leave the
     * inbox); `applied` (the default) answers with the writes' outcomes.
     */
    answer?: AnswerWhen;
  },
  entries: BatchedEntries,
): Promise<BatchDecisionResult> {
  const { workspace, request } = input;
  const ids = request.approvalIds;
  const batchDecisionId = newId();
  // As for one draft: an approved email's contact is read from the CRM before the chain lock is taken.
  const contacts =
    request.kind === 'approve'
      ? await readEmailContacts(deps, workspace, await findHeldDrafts(deps.db, workspace.id, ids))
      : new Map<string, CrmRecordValues>();
  const decided = await withAuditChain(deps.db, workspace.id, deps.clock, async (tx, audit) => {
    const now = deps.clock();
    // Field changes, then drafts, each in id order: every batch takes its row locks in one order, so two never deadlock.
    const approvals = new Map((await lockApprovals(tx, workspace.id, ids)).map((stored) => [stored.id, stored]));
    const drafts = new Map(
      (
        await lockHeldDrafts(
          tx,
          workspace.id,
          ids.filter((id) => !approvals.has(id)),
        )
      ).map((row) => [row.id, row]),
    );
    const person = input.person ?? (await findPerson(tx, workspace.id, request.actingUserId));
    const single =
      request.kind === 'approve'
        ? { kind: 'approve' as const, actingUserId: request.actingUserId }
        : { kind: 'reject' as const, actingUserId: request.actingUserId, reason: request.reason };
    // Then creations and associations, each in id order too.
    const held = await entries.decide(deps, tx, audit, {
      workspace,
      ids: ids.filter((id) => !approvals.has(id) && !drafts.has(id)),
      request: single,
      via: input.via,
      person,
      now,
      batchDecisionId,
    });
    // Nothing to decide: a manifest would only record ids this workspace does not have (issue 17).
    // Thrown inside the transaction, so nothing is appended.
    if (approvals.size === 0 && drafts.size === 0 && held.outcomes.size === 0) {
      throw new AppError(
        'NOT_FOUND',
        `None of the ${ids.length} approvals named is a held field change, draft, creation or association of this workspace.`,
      );
    }
    const results = new Map<string, Decided>(held.outcomes);
    const writes: TransitionWrite[] = [];
    for (const id of ids) {
      const stored = approvals.get(id);
      const row = drafts.get(id);
      if (stored)
        results.set(id, {
          kind: 'field_change',
          outcome: decideLocked(audit, {
            stored,
            person,
            request: single,
            via: input.via,
            now,
            batchDecisionId,
            writes,
          }),
        });
      else if (row) {
        const outcome = await decideLockedAction(tx, audit, deps.secrets, {
          row,
          person,
          request: single satisfies ActionDecisionRequest,
          via: input.via,
          contact: contacts.get(row.recordId) ?? {},
          contactFields: deps.crmFor(workspace).forObject(row.objectType).contactFields,
          now,
          batchDecisionId,
        });
        results.set(id, { kind: 'draft', outcome });
      }
    }
    await saveTransitions(tx, writes);
    const idsOf = (kind: ApprovalKind) => ids.filter((id) => results.get(id)?.kind === kind);
    audit.append({
      type: 'approval.batch_decided',
      actor: {
        type: 'person',
        name: `crm-user:${request.actingUserId}`,
        crmUserId: request.actingUserId,
        role: person?.role ?? null,
        via: input.via,
      },
      data: {
        batchDecisionId,
        kind: request.kind,
        approvalIds: ids,
        // Which ids were held field changes, drafts, creations and associations (an unknown id is in none).
        fieldChanges: idsOf('field_change'),
        drafts: idsOf('draft'),
        creations: idsOf('creation'),
        associations: idsOf('association'),
        decided: ids.filter((id) => results.get(id)?.outcome.ok),
        refused: ids.filter((id) => !results.get(id)?.outcome.ok),
        ...(request.kind === 'reject' ? { reason: request.reason } : {}),
        ...(request.note ? { note: request.note } : {}),
      },
    });
    return {
      results,
      applyEntries: held.apply,
      batches: [...approvals.values()].map((stored) => ({ agentId: stored.agentId, batchId: stored.batchId })),
    };
  });

  const outcomes = decided.results;
  const approved = ids.filter((id) => {
    const result = outcomes.get(id);
    return result?.kind === 'field_change' && result.outcome.ok && result.outcome.approved;
  });
  const released = ids.filter((id) => {
    const result = outcomes.get(id);
    return result?.kind === 'draft' && result.outcome.ok && result.outcome.released;
  });
  // Each approved approval is stored `approved`, the apply queue's row: if this process dies first, the approval job writes it.
  // Each approved creation or association is `applying` under its change set's lease: recovery makes it then.
  const statuses = await writeNowOrBehind(
    deps.behindAnswers,
    input.answer,
    () => Promise.all([applyApprovals(deps, { workspace, approvalIds: approved }), decided.applyEntries()]),
    async () => {
      // Before answering in every case: nothing creates a released task or note again if this process dies (release-action.ts).
      // One at a time, as a single decision does: each task or note is its own CRM call.
      for (const id of released) await executeReleasedAction(deps, workspace, id);
      if (request.kind === 'reject') await checkRejectionRate(deps, workspace.id, decided.batches);
      return statusesNow(deps, workspace, outcomes);
    },
  );
  const results = ids.map((approvalId): BatchDecisionResult['results'][number] => {
    const result = outcomes.get(approvalId);
    if (result === undefined)
      return {
        approvalId,
        kind: null,
        status: null,
        refusal: { code: 'not_found', message: `There is no approval ${approvalId} in this workspace.` },
      };
    const status = statuses.get(approvalId) ?? null;
    if (!result.outcome.ok)
      return {
        approvalId,
        kind: result.kind,
        status,
        refusal: { code: result.outcome.code, message: result.outcome.message },
      };
    return { approvalId, kind: result.kind, status };
  });
  return {
    batchDecisionId,
    results,
    summary: {
      decided: results.filter((result) => !result.refusal).length,
      refused: results.filter((result) => result.refusal).length,
      applied: results.filter((result) => result.status === 'applied').length,
    },
  };
}

/** Each approval's status once the writes are done; a draft's, a creation's and an association's in the approvals' terms. */
async function statusesNow(
  deps: ServiceDeps,
  workspace: WorkspaceRow,
  outcomes: ReadonlyMap<string, Decided>,
): Promise<Map<string, BatchStatus>> {
  const idsOf = (...kinds: ApprovalKind[]) =>
    [...outcomes].filter(([, result]) => kinds.includes(result.kind)).map(([id]) => id);
  const [approvals, drafts, held] = await Promise.all([
    statusesOf(deps.db, workspace.id, idsOf('field_change')),
    findHeldDrafts(deps.db, workspace.id, idsOf('draft')),
    findHeldEntries(deps, workspace.id, { ids: idsOf('creation', 'association'), limit: BATCH_DECISION_MAX }),
  ]);
  return new Map<string, BatchStatus>([
    ...approvals,
    ...drafts.map((row) => [row.id, draftApprovalStatus(row.status)] as const),
    ...held.map((entry) => [entry.id, entry.status] as const),
  ]);
}
