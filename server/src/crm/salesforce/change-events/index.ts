/** Salesforce Change Data Capture through the Pub/Sub API (issue 20): the subscriber and how its events read. */
export { readChangeOrigin } from './change-origin.ts';
export { type ParsedChangeEvent, type Reread, readChangeEvent } from './read-change-event.ts';
export {
  CHANGE_EVENT_TOPICS,
  type ChangeEventStream,
  type ChangeEventStreamConfig,
  openChangeEventStream,
} from './subscriber.ts';
export { changeStreamOfConnection } from './connection-stream.ts';
