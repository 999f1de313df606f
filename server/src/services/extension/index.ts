/** Extension: the requests of the HubSpot app's card and settings page. Other folders import this feature only from here. */
export { decideSelectedRecords, previewBulkDecision } from './bulk-decisions.ts';
export { pendingDraftView } from './extension-drafts.ts';
export { authenticateExtensionRequest, type ExtensionCaller, personActor } from './extension-caller.ts';
export {
  removePersonRoleFromApp,
  removeTeamRoleFromApp,
  setPersonRoleFromApp,
  setTeamRoleFromApp,
} from './extension-people.ts';
export {
  auditSearch,
  cardView,
  engagedKillSwitches,
  homeView,
  pendingCard,
  pendingEntryCard,
  requirePermission,
  settingsView,
} from './extension-views.ts';
