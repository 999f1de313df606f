/** Retention and erasure (issue 21, point 11): periods per workspace, the retention job, erasure of one person. Other folders import this feature only from here. */
export { erasePerson } from './erase-person.ts';
export { type RetentionJob, runDueRetention } from './run-retention.ts';
export { setRetention, showRetention } from './settings.ts';
