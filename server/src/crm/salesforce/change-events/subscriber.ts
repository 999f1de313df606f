import type PubSubApiClient from 'salesforce-pubsub-api-client';
import type { CrmChangeBatch } from '../../../../../shared/crm-change-events.ts';
import type { CommitUserKind } from '../../../domain/crm-change-origin.ts';
import { readChangeOrigin } from './change-origin.ts';
import { type ChangeEventContext, type ParsedChangeEvent, readChangeEvent } from './read-change-event.ts';

/**
 * Salesforce Change Data Capture through the Pub/Sub API (issue 20, point 5), with the real
 * `salesforce-pubsub-api-client`: one subscription per governed object's channel, each from its
 * stored replay id (or the earliest retained event the first time), events handed over one at a
 * time and in order, each awaited before the next so its replay id is stored with it. A replay
 * id Salesforce no longer accepts (its events passed the 72-hour retention) becomes a batch
 * asking to read the object's governed records again that moves the channel's position to the
 * earliest retained event; the stream then ends, and the next one starts there.
 */

export const CHANGE_EVENT_TOPICS: Readonly<Record<string, string>> = {
  Contact: '/data/ContactChangeEvent',
  Lead: '/data/LeadChangeEvent',
  Opportunity: '/data/OpportunityChangeEvent',
  Agent_Approval__c: '/data/Agent_Approval__ChangeEvent',
};

export interface ChangeEventStreamConfig {
  /** An access token of the org's connection (the adapter's auth), its instance URL and org id. */
  accessToken: string;
  instanceUrl: string;
  organizationId: string;
  /** `host:port` of the Pub/Sub API; Salesforce's own unless a sandbox's. */
  pubSubEndpoint?: string;
  /** Only for a local sandbox's self-signed certificate. */
  rejectUnauthorizedSsl?: boolean;
  ourClientId: string;
  objectTypes: ChangeEventContext['objectTypes'];
  approvalObject: ChangeEventContext['approvalObject'];
  /**
   * What kind of user each commit user is (Agentforce agent users, the automated process), asked
   * once per user and stream; unknown ones are read by channel. A failed lookup fails the stream,
   * which is opened again at the stored replay id: a change is never read without it.
   */
  userKinds?: (userIds: readonly string[]) => Promise<ReadonlyMap<string, CommitUserKind>>;
}

export interface ChangeEventStream {
  /** The channels in a fixed order; a channel's place keys its events. */
  topics: readonly string[];
  /** Settles when a channel fails (rejects with why) or the stream is closed (resolves). */
  done: Promise<void>;
  close(): void;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const REPLAY_REFUSED = /replayid/i;
/** A stored position that says: start this channel at the earliest event Salesforce keeps. */
const FROM_EARLIEST = '';

export async function openChangeEventStream(
  config: ChangeEventStreamConfig,
  positions: ReadonlyMap<string, string>,
  onBatch: (batch: CrmChangeBatch, topicIndex: number) => Promise<void>,
): Promise<ChangeEventStream> {
  // Loaded with the first stream, as jsforce is (see ../auth.ts): it brings gRPC and Avro.
  const { default: PubSubApiClient } = await import('salesforce-pubsub-api-client');
  const client = new PubSubApiClient(
    {
      authType: 'user-supplied',
      accessToken: config.accessToken,
      instanceUrl: config.instanceUrl,
      organizationId: config.organizationId,
      pubSubEndpoint: config.pubSubEndpoint,
      rejectUnauthorizedSsl: config.rejectUnauthorizedSsl ?? true,
    },
    quiet,
  );
  await client.connect();
  const entities = Object.keys(CHANGE_EVENT_TOPICS).filter(
    (entity) => entity === config.approvalObject.entity || entity in config.objectTypes,
  );
  const topics = entities.map((entity) => CHANGE_EVENT_TOPICS[entity] ?? '');
  const userKinds = new Map<string, CommitUserKind>();
  let closed = false;
  let fail: (error: unknown) => void = () => {};
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    fail = reject;
    finish = resolve;
  });
  // One chain for every channel: batches are stored one at a time, in the order they arrived.
  let chain = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    chain = chain.then(work).catch((error: unknown) => {
      closed = true;
      fail(error);
    });
  };

  const context = async (header: ParsedChangeEvent['payload']['ChangeEventHeader']): Promise<ChangeEventContext> => {
    const { commitUser } = header;
    // Asked once per user and stream (every asked id is kept, unknown ones too); our own writes need no asking.
    const ours = readChangeOrigin(header.changeOrigin).apiClient === config.ourClientId;
    if (config.userKinds && commitUser !== '' && !ours && !userKinds.has(commitUser)) {
      const kinds = await config.userKinds([commitUser]);
      userKinds.set(commitUser, kinds.get(commitUser) ?? 'unknown');
    }
    return {
      ourClientId: config.ourClientId,
      objectTypes: config.objectTypes,
      approvalObject: config.approvalObject,
      userKinds,
    };
  };

  const subscribe = (topicIndex: number, from: string | undefined) => {
    const topic = topics[topicIndex] ?? '';
    // Set once Salesforce refused the replay id: what the dead stream still reports is not news.
    let retired = false;
    const callback: Parameters<PubSubApiClient['subscribe']>[1] = (_info, type, data) => {
      if (closed || retired) return;
      if (type === 'event') {
        const event = data as ParsedChangeEvent;
        enqueue(async () => {
          const read = readChangeEvent(event, await context(event.payload.ChangeEventHeader));
          const replayId = BigInt(event.replayId);
          await onBatch(
            { topic, position: replayId.toString(), sequence: replayId, events: read.changes, reread: read.reread },
            topicIndex,
          );
        });
      } else if (type === 'error') {
        const error = data as { code?: number; details?: string; message?: string };
        if (REPLAY_REFUSED.test(error.details ?? error.message ?? '') && from !== undefined) {
          // Events after the stored replay id are gone: read the object's governed records again and
          // store the channel's position as "from the earliest kept"; the stream then ends, and the
          // next one starts there (the client cannot start a refused channel again on its own).
          retired = true;
          const entity = entities[topicIndex] ?? '';
          const objectType = entity === config.approvalObject.entity ? undefined : config.objectTypes[entity];
          enqueue(async () => {
            await onBatch(
              {
                topic,
                position: FROM_EARLIEST,
                sequence: BigInt(from),
                events: [],
                reread: objectType === undefined ? null : { objectType, recordIds: null },
              },
              // Keyed apart from the channel's own events: the refused replay id is one of them.
              topics.length + topicIndex,
            );
            if (!closed) {
              closed = true;
              finish();
            }
          });
          return;
        }
        closed = true;
        fail(
          Object.assign(new Error(`change events of ${topic}: ${error.details ?? error.message ?? 'stream failed'}`), {
            cause: data,
          }),
        );
      } else if (type === 'end' && !closed) {
        closed = true;
        fail(new Error(`change events of ${topic}: the stream ended`));
      }
    };
    if (from === undefined || from === FROM_EARLIEST) client.subscribeFromEarliestEvent(topic, callback, null);
    else client.subscribeFromReplayId(topic, callback, null, Number(from));
  };

  for (const [index, topic] of topics.entries()) subscribe(index, positions.get(topic));
  return {
    topics,
    done,
    close() {
      if (!closed) {
        closed = true;
        finish();
      }
      client.close();
    },
  };
}
