/** Webhooks: intake of CRM change events, their processing, reconciliation of approvals and revert of bypasses. Other folders import this feature only from here. */
export { ingestHubSpotWebhook, readWebhookEvents } from './ingest-webhooks.ts';
export { createPortalDirectory } from './portal-directory.ts';
export {
  type ProcessOptions,
  processWebhookEvents,
  processWorkspaceEvents,
  SPLIT_BATCH,
  splitStoredDeliveries,
  workspacesWithWebhookEvents,
} from './process-webhook-events.ts';
export {
  type ChangeStreamEnd,
  followChangeStream,
  listStreamingWorkspaces,
  type OpenChangeStream,
} from './crm-change-stream.ts';
