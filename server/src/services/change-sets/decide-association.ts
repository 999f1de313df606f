import type { AssociateResult } from '../../../../shared/agent-api.ts';
import {
  findRecordAssociation,
  lockRecordAssociations,
  type RecordAssociationRow,
  updateRecordAssociation,
} from '../../store/record-association-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { associateApproved } from './associate-records.ts';
import { associationResult } from './change-set-view.ts';
import { decideHeldRecordEntry, type HeldEntryDecision, type HeldEntryKind } from './held-entry-decision.ts';

export const associations: HeldEntryKind<RecordAssociationRow> = {
  what: 'association',
  lock: lockRecordAssociations,
  update: updateRecordAssociation,
  events: { approved: 'record.associate_approved', rejected: 'record.associate_rejected' },
  apply: associateApproved,
  find: findRecordAssociation,
  result: associationResult,
};

/**
 * A person's decision on a held association (issue 21), by the approvals' rules, as for a held
 * creation: approved (by two people for `two_person`), the records are linked then (kill switch
 * checked first); a rejection refuses it for good. Every decision is audited.
 */
export function decideAssociation(
  deps: ServiceDeps,
  input: { workspace: WorkspaceRow; associationId: string } & HeldEntryDecision,
): Promise<AssociateResult> {
  return decideHeldRecordEntry<RecordAssociationRow, AssociateResult>(deps, associations, {
    workspace: input.workspace,
    id: input.associationId,
    request: input.request,
    via: input.via,
    person: input.person,
  });
}
