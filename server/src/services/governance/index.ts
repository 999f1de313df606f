/** Governance: workspaces, agents, people, policies, kill switches and triggers, bootstrap, the audit trail and its checkpoints. Other folders import this feature only from here. */
export {
  agentActor,
  type AgentActor,
  authenticateAgent,
  type AuthenticatedAgent,
  createAgent,
  ROLLBACK_AGENT_NAME,
  listWorkspaceAgents,
  setAgentStatus,
} from './agents.ts';
export { createDelegation, endDelegation, listLiveDelegations } from './delegations.ts';
export { acceptAgentChange, agentSafetyView, gatesForSubmission } from './agent-safety.ts';
export { APPROVAL_KEY_PROPERTY, APPROVAL_OBJECT_SCHEMA } from './approval-crm-schema.ts';
export { type CheckpointPublishing, publishDueCheckpoints } from './audit-checkpoints.ts';
export {
  type AuditExportFormat,
  type AuditProgress,
  type CheckpointsToVerify,
  exportAudit,
  verifyAudit,
} from './audit.ts';
export { bootstrapWorkspace } from './bootstrap.ts';
export { agentBudgetStates, type BudgetedAgent, withinAgentBudget, workspaceBudgetUsage } from './agent-budgets.ts';
export { recordCrmBudgetStop } from './crm-budget.ts';
export { recordCrmConnectionRefused } from './crm-refusals.ts';
export { checkpointFile, parseCheckpointLines } from './checkpoint-file.ts';
export { decideGovernanceRequest } from './confirm-governance.ts';
export { requestErasure } from './erasure-requests.ts';
export { findGovernanceRequests } from './governance-requests.ts';
export {
  assertNotKilled,
  engagedKillSwitch,
  engagedSwitches,
  engagedSwitchesUnlessKilled,
  killSwitchError,
  listsOfRecords,
  listWorkspaceKillSwitches,
  requestWideSwitch,
  setKillSwitch,
  switchStoppingDraft,
  switchView,
} from './kill-switches.ts';
export { switchesStoppingEntries } from './record-switches.ts';
export {
  claimAndRunQuarantine,
  claimQuarantineRun,
  clearRecordReview,
  clearReviewsByRollback,
  listRecordReviews,
  unmarkClearedReviews,
  workspacesWithReviewsToClear,
} from './quarantine.ts';
export { checkKillTriggers, checkRejectionRate, drillKillTrigger, TRIGGER_ACTOR } from './kill-triggers.ts';
export {
  listWorkspacePeople,
  listWorkspaceTeamRoles,
  removePersonRole,
  removeTeamRole,
  type ResolvedPerson,
  resolvePerson,
  setPersonRole,
  setTeamRole,
} from './people.ts';
export {
  activePolicy,
  parseStoredPolicy,
  policyHistory,
  policyInForce,
  policyVersion,
  publishPolicy,
  restorePolicyVersion,
} from './policies.ts';
export { getRegressionSet, putRegressionSet, runRegressionSet } from './regression-sets.ts';
export { findWorkspaceForPortal, listConnectedPortals, type WorkspaceRow } from './workspace-lookup.ts';
export { type AppliedPolicy, applyPolicy } from './apply-policy.ts';
export { connectCrm, disconnectCrm } from './crm-connections.ts';
export { changeWorkspace, removeWorkspace } from './workspace-changes.ts';
export {
  authenticateAdmin,
  createWorkspace,
  createSalesforceWorkspace,
  listWorkspaceViews,
  requireActiveWorkspace,
  requireWorkspace,
  type WorkspaceView,
} from './workspaces.ts';
