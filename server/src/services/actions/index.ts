/** Actions: drafts (emails, tasks, notes) submitted by agents, their stop rules, their release and their reported outcomes. Other folders import this feature only from here. */
export { actionEvent } from './action-audit.ts';
export {
  actionView,
  contentOf,
  findActions,
  getActionForAdmin,
  loadActionView,
  requireAction,
} from './action-view.ts';
export { assertDraftTextFits } from './draft-text.ts';
export { readOwnAction } from './read-own-action.ts';
export { executeReleasedAction, executeReleasedActions, releaseChange } from './release-action.ts';
export { reportActionOutcome } from './report-action-outcome.ts';
export { currentStopReason } from './stop-rules.ts';
export { submitAction } from './submit-action.ts';
export { verifyRelease } from './verify-release.ts';
