import type { ActivePolicy } from '../../../../shared/admin-api.ts';
import type {
  AssociateResult,
  ChangeResult,
  ChangeSetResponse,
  CreateResult,
  Decision,
} from '../../../../shared/agent-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { ReasonCode } from '../../../../shared/reason-codes.ts';
import { agentSees, reasonsAgentSees } from '../../domain/read-masking.ts';
import { damagedChangeSetMessage, isDecision } from '../../domain/stored-decisions.ts';
import { AppError } from '../../errors.ts';
import { findChangeSet, listChanges, type ChangeRow, type ChangeSetRow } from '../../store/change-store.ts';
import type { Db } from '../../store/database.ts';
import { listRecordAssociations, type RecordAssociationRow } from '../../store/record-association-store.ts';
import { listRecordCreations, type RecordCreationRow } from '../../store/record-creation-store.ts';
import { isUuid, type ServiceDeps } from '../common/index.ts';
import { activePolicy, type AuthenticatedAgent, policyVersion } from '../governance/index.ts';

/**
 * The agent API's view of a stored change set; a replay answers exactly as the first submission did.
 * Only the agent that submitted it reads it (least privilege): another agent's change set answers
 * as an unknown id does, so an agent cannot tell that it exists nor read its proposed values.
 */
export async function loadChangeSetView(
  db: Db,
  owner: { workspaceId: string; agentId: string },
  changeSetId: string,
): Promise<ChangeSetResponse> {
  const { workspaceId } = owner;
  const changeSet = isUuid(changeSetId) ? await findChangeSet(db, workspaceId, changeSetId) : undefined;
  if (changeSet?.agentId !== owner.agentId)
    throw new AppError('NOT_FOUND', `There is no change set ${changeSetId} for this agent.`);
  const [rows, creations, associations] = await Promise.all([
    listChanges(db, workspaceId, changeSetId),
    listRecordCreations(db, workspaceId, changeSetId),
    listRecordAssociations(db, workspaceId, changeSetId),
  ]);
  // A decision typed into the database is not shown as if this server had made it (500, naming the change set).
  const damaged = [...rows, ...creations, ...associations].find((row) => !isDecision(row.decision));
  if (damaged)
    throw new AppError(
      'INTERNAL',
      damagedChangeSetMessage({ changeSetId, changeId: damaged.id, decision: damaged.decision }),
    );
  if (associations.length > 0) return associationView(changeSet, associations);
  return creations.length > 0 ? creationView(changeSet, creations) : changeSetView(changeSet, rows);
}

/** A change set as the agent that submitted it reads it back (`GET /v1/changesets/:id`, `get_change_set`), as the policy in force lets it read it. */
export async function readChangeSet(
  deps: ServiceDeps,
  caller: AuthenticatedAgent,
  changeSetId: string,
): Promise<ChangeSetResponse> {
  const owner = { workspaceId: caller.workspace.id, agentId: caller.agent.id };
  const view = await loadChangeSetView(deps.db, owner, changeSetId);
  return asAgentSees(deps, caller, await activePolicy(deps.db, caller.workspace.id), view);
}

/**
 * A change set as `readRules` lets the agent's role read it: one may propose a change to a
 * property it may not read, and its answer must not hand it the value a read would withhold or
 * mask, nor a reason that tells it (`reasonsAgentSees`). Each `before` is masked or withheld as a
 * read would be. A submission's answer is shown under the policy its decision was taken under; a
 * replay's and a read's under the one in force, the reasons judged against the conditions of the
 * policy that decided them. People's views (console, record card, audit) keep value and reasons.
 */
export async function asAgentSees(
  deps: ServiceDeps,
  caller: Pick<AuthenticatedAgent, 'agent' | 'workspace'>,
  readRules: ActivePolicy,
  response: ChangeSetResponse,
): Promise<ChangeSetResponse> {
  const decidedUnder =
    response.policyVersion === readRules.version
      ? readRules.policy
      : (await policyVersion(deps, caller.workspace.id, response.policyVersion)).policy;
  const { objectType } = response;
  const role = caller.agent.role;
  const sees = agentSees(readRules.policy, objectType, role);
  const told = reasonsAgentSees({ readRules: readRules.policy, decidedUnder, objectType, role });
  const results = response.results.map((result) => {
    if ('operation' in result) return result;
    const { value, shownAs } = sees(result.property, result.before);
    const shown = { ...result, reasons: told(result.property, result.reasons) };
    return shownAs ? { ...shown, before: value, beforeShownAs: shownAs } : shown;
  });
  return { ...response, results };
}

export type ChangeSetHeader = Pick<
  ChangeSetRow,
  'id' | 'batchId' | 'objectType' | 'agentId' | 'policyVersion' | 'status' | 'createdAt'
>;
export type ChangeViewRow = Pick<
  ChangeRow,
  | 'id'
  | 'ordinal'
  | 'recordId'
  | 'property'
  | 'decision'
  | 'tier'
  | 'reasons'
  | 'beforeValue'
  | 'proposedValue'
  | 'message'
>;

/** The one mapping from rows to the API's shape, used for a fresh submission (rows in memory) and for reads. */
export function changeSetView(changeSet: ChangeSetHeader, rows: readonly ChangeViewRow[]): ChangeSetResponse {
  const results = [...rows].sort((a, b) => a.ordinal - b.ordinal).map(resultOf);
  const summary = { applied: 0, pending_approval: 0, denied: 0, failed: 0, applying: 0 };
  for (const result of results) summary[result.decision] += 1;
  return {
    id: changeSet.id,
    batchId: changeSet.batchId,
    objectType: changeSet.objectType as ObjectType,
    agentId: changeSet.agentId,
    policyVersion: changeSet.policyVersion,
    status: changeSet.status,
    createdAt: changeSet.createdAt.toISOString(),
    summary,
    results,
  };
}

function resultOf(row: ChangeViewRow): ChangeResult {
  return {
    changeId: row.id,
    recordId: row.recordId,
    property: row.property,
    decision: row.decision satisfies Decision,
    tier: row.tier as ChangeResult['tier'],
    reasons: row.reasons as ReasonCode[],
    before: row.beforeValue,
    proposed: row.proposedValue,
    ...(row.message ? { message: row.message } : {}),
  };
}

/** A change set that creates records: one result per entry, in the order sent (issue 21). */
export function creationView(header: ChangeSetHeader, rows: readonly RecordCreationRow[]): ChangeSetResponse {
  return entriesView(header, rows.map(creationResult));
}

/** One creation's result, as its change set's view shows it. */
export function creationResult(row: RecordCreationRow): CreateResult {
  return {
    changeId: row.id,
    operation: 'create',
    recordId: row.recordId,
    properties: row.properties,
    decision: row.decision,
    tier: row.tier as CreateResult['tier'],
    reasons: row.reasons as CreateResult['reasons'],
    ...(row.duplicateOf ? { duplicateOf: row.duplicateOf } : {}),
    ...(row.message ? { message: row.message } : {}),
  };
}

/** A change set that associates records: one result per entry, in the order sent (issue 21). */
export function associationView(header: ChangeSetHeader, rows: readonly RecordAssociationRow[]): ChangeSetResponse {
  return entriesView(header, rows.map(associationResult));
}

/** One association's result, as its change set's view shows it. */
export function associationResult(row: RecordAssociationRow): AssociateResult {
  return {
    changeId: row.id,
    operation: 'associate',
    recordId: row.recordId,
    toObjectType: row.toObjectType as AssociateResult['toObjectType'],
    toRecordId: row.toRecordId,
    decision: row.decision,
    tier: row.tier as AssociateResult['tier'],
    reasons: row.reasons as AssociateResult['reasons'],
    ...(row.message ? { message: row.message } : {}),
  };
}

function entriesView(header: ChangeSetHeader, results: (CreateResult | AssociateResult)[]): ChangeSetResponse {
  const summary = { applied: 0, pending_approval: 0, denied: 0, failed: 0, applying: 0 };
  for (const result of results) summary[result.decision] += 1;
  return {
    id: header.id,
    batchId: header.batchId,
    objectType: header.objectType as ChangeSetResponse['objectType'],
    agentId: header.agentId,
    policyVersion: header.policyVersion,
    status: header.status,
    createdAt: header.createdAt.toISOString(),
    summary,
    results,
  };
}
