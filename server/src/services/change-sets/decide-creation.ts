import type { CreateResult } from '../../../../shared/agent-api.ts';
import {
  findRecordCreation,
  lockRecordCreations,
  type RecordCreationRow,
  updateRecordCreation,
} from '../../store/record-creation-store.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { creationResult } from './change-set-view.ts';
import { createApproved } from './create-records.ts';
import { decideHeldRecordEntry, type HeldEntryDecision, type HeldEntryKind } from './held-entry-decision.ts';

export const creations: HeldEntryKind<RecordCreationRow> = {
  what: 'creation',
  lock: lockRecordCreations,
  update: updateRecordCreation,
  events: { approved: 'record.create_approved', rejected: 'record.create_rejected' },
  apply: createApproved,
  find: findRecordCreation,
  result: creationResult,
};

/**
 * A person's decision on a held creation (issue 21), by the approvals' rules. Once approved, the
 * record is created as an `auto` one would be (kill switch checked first); a rejection refuses it
 * for good. Every decision is audited.
 */
export function decideCreation(
  deps: ServiceDeps,
  input: { workspace: WorkspaceRow; creationId: string } & HeldEntryDecision,
): Promise<CreateResult> {
  return decideHeldRecordEntry<RecordCreationRow, CreateResult>(deps, creations, {
    workspace: input.workspace,
    id: input.creationId,
    request: input.request,
    via: input.via,
    person: input.person,
  });
}
