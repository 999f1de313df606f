/** Rollbacks: planning one, running it as a job, and reporting it. Other folders import this feature only from here. */
export { dryRunRollback, startRollback } from './plan-rollback.ts';
export { ROLLBACK_AGENT_NAME } from './rollback-agent.ts';
export { getRollback, isSameRollbackRequest, rollbackReport, setRollbackPaused } from './rollback-control.ts';
export {
  claimAndRunRollback,
  claimRollbackRun,
  DEFAULT_LEASE_MS,
  leaseHolderName,
  type RunResult,
} from './run-rollback.ts';
