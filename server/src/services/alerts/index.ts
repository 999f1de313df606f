/** Alerts to people (issue 22, part 3): channels and rules, the evaluation that raises alerts and their delivery. Other folders import this feature only from here. */
export {
  addAlertChannel,
  addAlertRule,
  listRecentAlerts,
  listWorkspaceAlertChannels,
  listWorkspaceAlertRules,
  removeAlertChannel,
  removeAlertRule,
} from './configure.ts';
export { type AlertDelivery, deliverDueAlert } from './deliver.ts';
export { type AlertEvaluation, evaluateDueAlertRule } from './evaluate.ts';
