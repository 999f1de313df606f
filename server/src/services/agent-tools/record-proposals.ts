import type { ObjectType } from '../../../../shared/crm-names.ts';
import { agentSees, type ShownAs } from '../../domain/read-masking.ts';
import type { ServiceDeps } from '../common/index.ts';
import { activePolicy, type AuthenticatedAgent } from '../governance/index.ts';
import { findApprovals } from '../held/index.ts';

/** Approvals of one record read at most; a record with more pending approvals than this is a record in trouble. */
const MAX_APPROVALS = 100;

export interface RecordProposal {
  approvalId: string;
  agentId: string;
  /** True when the asking agent proposed it. */
  yours: boolean;
  batchId: string;
  tier: 'approval' | 'two_person';
  createdAt: string;
  expiresAt: string;
  /**
   * The values still waiting for a person, each with the value the record held when it was
   * proposed, masked or withheld (`beforeShownAs`) as the policy's read rules say for the agent asking.
   * Another agent's proposed value is shown by the same rule (`proposedShownAs`): once approved it is
   * the record's value, which a read would mask or withhold. The asking agent's own are as it sent them.
   */
  properties: {
    property: string;
    proposed: string | null;
    proposedShownAs?: ShownAs;
    before: string | null;
    beforeShownAs?: ShownAs;
  }[];
}

/**
 * The field changes on one record still waiting for a person, from every agent of the workspace:
 * what an agent reads so that it does not propose the same value twice (issue 22). Which properties
 * are waiting is shown in full, since that is what keeps agents from proposing twice; the values
 * only as far as the agent may read them.
 */
export async function pendingRecordProposals(
  deps: ServiceDeps,
  input: AuthenticatedAgent & { objectType: ObjectType; recordId: string },
): Promise<RecordProposal[]> {
  const approvals = await findApprovals(deps, input.workspace.id, {
    recordId: input.recordId,
    status: 'pending',
    kind: 'field_change',
    limit: MAX_APPROVALS,
  });
  const { policy } = await activePolicy(deps.db, input.workspace.id);
  const sees = agentSees(policy, input.objectType, input.agent.role);
  return approvals.flatMap((approval) =>
    approval.kind === 'field_change' && approval.objectType === input.objectType
      ? [
          {
            approvalId: approval.id,
            agentId: approval.agentId,
            yours: approval.agentId === input.agent.id,
            batchId: approval.batchId,
            tier: approval.tier,
            createdAt: approval.createdAt,
            expiresAt: approval.expiresAt,
            properties: approval.items
              .filter((item) => item.status === 'pending')
              .map((item) => {
                const before = sees(item.property, item.before);
                const proposed =
                  approval.agentId === input.agent.id ? { value: item.proposed } : sees(item.property, item.proposed);
                return {
                  property: item.property,
                  proposed: proposed.value,
                  ...(proposed.shownAs ? { proposedShownAs: proposed.shownAs } : {}),
                  before: before.value,
                  ...(before.shownAs ? { beforeShownAs: before.shownAs } : {}),
                };
              }),
          },
        ]
      : [],
  );
}
