/**
 * A fake HubSpot for tests, benchmarks and the local sandbox: an in-memory state model and a
 * framework-free request handler. Never imported by production paths.
 */
export { CallLog, type CallLogEntry } from './call-log.ts';
export { HubSpotFaults, type RateLimitSettings, type ScriptedFailure } from './faults.ts';
export { handleHubSpotRequest } from './handler.ts';
export { createFakeHubSpotHttpServer, type FakeHubSpotHttpServer } from './http-server.ts';
export type { HubSpotRequest, HubSpotResponse } from './responses.ts';
export {
  createHubSpotState,
  editAsPerson,
  editAsWorkflow,
  FAKE_ACCESS_TOKEN,
  propertyHistory,
  recordValues,
  seedRecord,
  type CreateHubSpotStateOptions,
  type FakeObjectType,
  type HistoryEntry,
  type HistorySourceType,
  type HubSpotState,
} from './state.ts';
