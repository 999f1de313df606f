import type { AssociateResult, CreateResult } from '../../../../shared/agent-api.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { decideAssociation } from './decide-association.ts';
import { decideCreation } from './decide-creation.ts';
import type { HeldEntryDecision } from './held-entry-decision.ts';

/**
 * A person's decision on a held creation or association (issue 21), named by its kind: the card's
 * and the console's routes take both alike.
 */
export function decideEntry(
  deps: ServiceDeps,
  input: { kind: 'creation' | 'association'; workspace: WorkspaceRow; id: string } & HeldEntryDecision,
): Promise<CreateResult | AssociateResult> {
  const { kind, id, ...decision } = input;
  return kind === 'creation'
    ? decideCreation(deps, { ...decision, creationId: id })
    : decideAssociation(deps, { ...decision, associationId: id });
}
