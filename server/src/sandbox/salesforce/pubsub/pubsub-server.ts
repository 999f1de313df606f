import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { generate } from 'selfsigned';
import { ChangeEventBus, type EventBusOptions, type RecordChange, ReplayIdInvalidError } from './event-bus.ts';

/**
 * A local Salesforce Pub/Sub API endpoint (issue 20): the published `pubsub_api.proto` served
 * with @grpc/grpc-js over TLS (a self-signed certificate made at start; the real client always
 * speaks TLS), so `salesforce-pubsub-api-client` runs against it with `pubSubEndpoint` and
 * `rejectUnauthorizedSsl: false`. GetTopic, GetSchema and Subscribe with flow control
 * (`num_requested` credits, at most 100 events a response), replay presets and replay ids, and
 * keepalives while there is nothing to send. Publish and ManagedSubscribe answer UNIMPLEMENTED.
 */

const PROTO = path.join(import.meta.dirname, 'pubsub_api.proto');
const MAX_BATCH = 100;
const REPLAY_PRESETS = ['latest', 'earliest', 'custom'] as const;

export interface PubSubSandboxOptions extends EventBusOptions {
  /** 0 picks a free port. */
  port?: number;
  /** The token the REST sandbox issued; calls carrying another get UNAUTHENTICATED. */
  accessToken: string;
  /** When given, decides which tokens are good instead of `accessToken` (the REST sandbox's live sessions). */
  acceptsToken?: (accessToken: string) => boolean;
  /** The org id callers must send as `tenantid`. */
  organizationId: string;
  /** How often an idle subscription gets an empty response (Salesforce: at most every 270 s). */
  keepaliveMs?: number;
}

export interface PubSubSandbox {
  /** `localhost:port`, for the client's `pubSubEndpoint`. */
  endpoint: string;
  bus: ChangeEventBus;
  /** The adapter the REST sandbox calls after each committed transaction. */
  publishRecordChanges(changes: readonly RecordChange[]): bigint[];
  close(): Promise<void>;
}

interface FetchRequest {
  topicName: string;
  replayPreset: number | string;
  replayId: Buffer;
  numRequested: number;
}

export async function startPubSubSandbox(options: PubSubSandboxOptions): Promise<PubSubSandbox> {
  const bus = new ChangeEventBus(options);
  const definition = protoLoader.loadSync(PROTO, {});
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    eventbus: { v1: { PubSub: { service: grpc.ServiceDefinition } } };
  };
  const server = new grpc.Server();
  const streams = new Set<grpc.ServerDuplexStream<FetchRequest, unknown>>();
  const acceptsToken = options.acceptsToken ?? ((token: string) => token === options.accessToken);
  const authorised = (metadata: grpc.Metadata): boolean =>
    acceptsToken(String(metadata.get('accesstoken')[0] ?? '')) &&
    metadata.get('tenantid')[0] === options.organizationId;
  const unauthenticated = {
    code: grpc.status.UNAUTHENTICATED,
    details: 'sfdc.platform.eventbus.grpc.service.auth.error: the access token or tenant id is not valid',
  };
  const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
    callback({ code: grpc.status.UNIMPLEMENTED, details: 'not implemented by the local sandbox' });

  server.addService(loaded.eventbus.v1.PubSub.service, {
    GetTopic(call: grpc.ServerUnaryCall<{ topicName: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      if (!authorised(call.metadata)) return callback(unauthenticated);
      const entity = bus.entityOfTopic(call.request.topicName);
      if (entity === undefined)
        return callback({
          code: grpc.status.NOT_FOUND,
          details: `sfdc.platform.eventbus.grpc.topic.not.found: no topic ${call.request.topicName}`,
        });
      callback(null, {
        topicName: call.request.topicName,
        tenantGuid: options.organizationId,
        canPublish: false,
        canSubscribe: true,
        schemaId: entity === null ? '' : bus.schemaOf(entity).id,
        rpcId: crypto.randomUUID(),
      });
    },
    GetSchema(call: grpc.ServerUnaryCall<{ schemaId: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      if (!authorised(call.metadata)) return callback(unauthenticated);
      const schema = bus.schemaById(call.request.schemaId);
      if (!schema) return callback({ code: grpc.status.NOT_FOUND, details: `no schema ${call.request.schemaId}` });
      callback(null, { schemaJson: schema.json, schemaId: schema.id, rpcId: crypto.randomUUID() });
    },
    Subscribe(stream: grpc.ServerDuplexStream<FetchRequest, unknown>) {
      if (!authorised(stream.metadata)) {
        fail(stream, unauthenticated.code, unauthenticated.details);
        return;
      }
      streams.add(stream);
      serveSubscription(stream, bus, options.keepaliveMs ?? 270_000, () => streams.delete(stream));
    },
    Publish: unimplemented,
    PublishStream(stream: grpc.ServerDuplexStream<unknown, unknown>) {
      fail(stream, grpc.status.UNIMPLEMENTED, 'not implemented by the local sandbox');
    },
    ManagedSubscribe(stream: grpc.ServerDuplexStream<unknown, unknown>) {
      fail(stream, grpc.status.UNIMPLEMENTED, 'not implemented by the local sandbox');
    },
  });

  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  const credentials = grpc.ServerCredentials.createSsl(
    null,
    [{ private_key: Buffer.from(pems.private), cert_chain: Buffer.from(pems.cert) }],
    false,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, credentials, (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    // Named as the certificate is: given 127.0.0.1, the client's TLS server name would be an IP
    // address, which Node warns about (DEP0123) on every connection.
    endpoint: `localhost:${port}`,
    bus,
    publishRecordChanges: (changes) => bus.publishRecordChanges(changes),
    close: () =>
      new Promise<void>((resolve) => {
        for (const stream of streams) stream.end();
        server.tryShutdown(() => resolve());
        // Streams a client holds open would keep a graceful shutdown waiting for ever.
        setTimeout(() => server.forceShutdown(), 1_000).unref();
      }),
  };
}

/** One Subscribe stream: credits from each FetchRequest, events sent while credits last, keepalives between. */
function serveSubscription(
  stream: grpc.ServerDuplexStream<FetchRequest, unknown>,
  bus: ChangeEventBus,
  keepaliveMs: number,
  onClose: () => void,
): void {
  let entity: string | null | undefined;
  let after = 0n;
  let credits = 0;
  let started = false;
  const send = () => {
    if (!started || credits <= 0 || entity === undefined) return;
    for (;;) {
      const events = bus.read(entity, after, Math.min(credits, MAX_BATCH));
      if (events.length === 0) return;
      const last = events.at(-1)?.replayId ?? after;
      after = last;
      credits -= events.length;
      stream.write({
        events: events.map((event) => ({
          event: { id: event.eventId, schemaId: event.schemaId, payload: event.payload, headers: [] },
          replayId: encodeReplayId(event.replayId),
        })),
        latestReplayId: encodeReplayId(last),
        rpcId: crypto.randomUUID(),
        pendingNumRequested: credits,
      });
      if (credits <= 0) return;
    }
  };
  const unsubscribe = bus.onPublish(send);
  const keepalive = setInterval(() => {
    if (started)
      stream.write({
        events: [],
        latestReplayId: encodeReplayId(after),
        rpcId: crypto.randomUUID(),
        pendingNumRequested: credits,
      });
  }, keepaliveMs);
  keepalive.unref();
  const close = () => {
    clearInterval(keepalive);
    unsubscribe();
    onClose();
  };
  stream.on('data', (request: FetchRequest) => {
    if (!started) {
      entity = bus.entityOfTopic(request.topicName);
      if (entity === undefined) {
        fail(
          stream,
          grpc.status.NOT_FOUND,
          `sfdc.platform.eventbus.grpc.topic.not.found: no topic ${request.topicName}`,
        );
        return;
      }
      const preset = typeof request.replayPreset === 'number' ? REPLAY_PRESETS[request.replayPreset] : undefined;
      const named = typeof request.replayPreset === 'string' ? request.replayPreset.toLowerCase() : preset;
      try {
        after = bus.startingPoint(
          named === 'custom'
            ? { preset: 'custom', replayId: decodeReplayId(request.replayId) }
            : { preset: named === 'earliest' ? 'earliest' : 'latest' },
        );
      } catch (error) {
        if (!(error instanceof ReplayIdInvalidError)) throw error;
        fail(
          stream,
          grpc.status.INVALID_ARGUMENT,
          `sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted: ${error.message}`,
        );
        return;
      }
      started = true;
    }
    credits += Math.max(0, request.numRequested ?? 0);
    send();
  });
  stream.on('end', () => {
    close();
    stream.end();
  });
  stream.on('error', close);
  stream.on('close', close);
}

/** Ends a stream with a gRPC status (grpc-js sends an 'error' emitted on a server stream as the call's status). */
function fail(stream: grpc.ServerDuplexStream<unknown, unknown>, code: grpc.status, details: string): void {
  stream.emit('error', { code, details });
}

export function encodeReplayId(replayId: bigint): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(replayId);
  return buffer;
}

function decodeReplayId(buffer: Buffer | undefined): bigint {
  if (buffer?.length !== 8) return -1n;
  return buffer.readBigUInt64BE();
}
