/**
 * The local Pub/Sub API endpoint of the Salesforce sandbox (issue 20). The REST sandbox starts
 * it beside itself and reports each committed transaction with `publishRecordChanges`.
 */
export { type ChangeEventBus, UI_CLIENT, type RecordChange, OVERFLOW_RECORD_ID, RETENTION_MS } from './event-bus.ts';
export { type PubSubSandbox, type PubSubSandboxOptions, startPubSubSandbox } from './pubsub-server.ts';
