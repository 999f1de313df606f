import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.ts';
import { httpUrlOf, loadConfig, type Config } from './config.ts';
import { startDemoIfWanted } from './demo/demo-mode.ts';
import { startAlertJobs } from './jobs/alert-jobs.ts';
import { startApprovalJobs } from './jobs/approval-jobs.ts';
import { startChangeSetRecovery } from './jobs/change-set-recovery.ts';
import { startQuarantineJob } from './jobs/quarantine-job.ts';
import { startChangeStreamFollowers } from './jobs/change-stream-followers.ts';
import { startCheckpointJob } from './jobs/checkpoint-job.ts';
import type { PollingLoop } from './jobs/polling-loop.ts';
import { startRetentionJob } from './jobs/retention-job.ts';
import { startRollbackWorker } from './jobs/rollback-worker.ts';
import { createAgentTraffic } from './agent-traffic.ts';
import { startSiemDelivery } from './jobs/siem-delivery.ts';
import { startWebhookWorker } from './jobs/webhook-worker.ts';
import { checkWritableFile } from './data-folder.ts';
import { AppError } from './errors.ts';
import { errorLogField, jsonLogger } from './logger.ts';
import { canvasSignedRequestCheck, openRuntime, salesforceChangeStreams, type Runtime } from './runtime.ts';
import { checkpointFile } from './services/governance/index.ts';
import { leaseHolderName, type ServiceDeps } from './services/common/index.ts';
import { createHttpServer } from './http/unreadable-requests.ts';

const logger = jsonLogger();

/** How long requests in flight may go on once the server is told to stop (docs/operations.md#deployment). */
const STOP_GRACE_MS = 10_000;

/** What `npm start -- …` passes on; every setting else is an environment variable. */
const SERVER_OPTIONS = ['--salesforce', '--no-demo-batch'];

async function main(): Promise<void> {
  // A mistyped flag (--no-demo-batches) was ignored without a word, the demo doing what it was told not to.
  const unknown = process.argv.slice(2).find((arg) => !SERVER_OPTIONS.includes(arg));
  if (unknown !== undefined)
    throw new AppError(
      'CONFIG_INVALID',
      `Unknown option ${unknown}: the server takes ${SERVER_OPTIONS.join(' and ')} (npm start -- --salesforce); its settings are environment variables (docs/operations.md#configuration).`,
    );
  const config = loadConfig();
  const runtime = await openRuntime(config, 'the Agent Governance server');
  if (runtime.checkpointKey.key) {
    try {
      checkWritableFile(config.auditCheckpoints.file, 'AUDIT_CHECKPOINT_FILE');
    } catch (error) {
      await runtime.close();
      throw error;
    }
  }
  const publicUrl = httpUrlOf(config.host, config.port);
  // Demo mode (issue 4) swaps HubSpot for the local sandbox; with a real account it stays undefined.
  const demo = await startDemoIfWanted({
    config,
    runtime,
    logger,
    argv: process.argv.slice(2),
    print: (line) => process.stdout.write(`${line}\n`),
  });
  const deps = demo?.deps ?? runtime.deps;
  const worker = config.webhookWorker ? startWebhookWorker(deps, { logger }) : undefined;
  const rollbacks = startRollbackWorker(deps, { logger, leaseMs: config.rollbackLeaseMs });
  const approvalJobs = config.approvalJobs ? startApprovalJobs(deps, { logger }) : undefined;
  const checkpoints = startCheckpointsIfKeyed(config, runtime, deps);
  const recovery = startChangeSetRecovery(deps, { logger, pollMs: config.changeSetRecoveryPollMs });
  const quarantine = startQuarantineJob(deps, { logger });
  const changeStreams = config.changeStreams.on
    ? startChangeStreamFollowers(deps, {
        logger,
        holder: leaseHolderName(),
        leaseMs: config.changeStreams.leaseMs,
        pollMs: config.changeStreams.pollMs,
        openFor: salesforceChangeStreams({
          secrets: deps.secrets,
          crmFor: deps.crmFor,
          addresses: runtime.crmAddresses,
          ...config.changeStreams,
          ...demo?.changeStreams,
        }),
        ...(worker ? { onStored: () => worker.wake() } : {}),
      })
    : undefined;
  const retention = startRetentionJob(deps, { logger });
  const agentTraffic = createAgentTraffic();
  const siem = startSiemDelivery(deps, {
    logger,
    pollMs: config.siem.pollMs,
    agentTraffic,
    delivery: {
      holder: leaseHolderName(),
      leaseMs: config.siem.leaseMs,
      requestTimeoutMs: Math.floor(config.siem.leaseMs / 3),
      retryMaxMs: config.siem.retryMaxMs,
      eventsPerRequest: config.siem.eventsPerRequest,
    },
  });
  const webhooks = {
    appClientSecret: config.hubspotClientSecret,
    publicUrl: config.publicUrl,
    ...(worker ? { onStored: () => worker.wake() } : {}),
  };
  const app = createApp({
    deps,
    database: runtime.database,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    publicUrl,
    webhooks,
    agentTraffic,
    consoleDir: fileURLToPath(new URL('../../console/dist', import.meta.url)),
    ...(config.salesforceCanvasConsumerSecret
      ? { canvas: { consumerSecrets: [config.salesforceCanvasConsumerSecret], check: canvasSignedRequestCheck } }
      : {}),
    ...(runtime.checkpointKey.key ? { checkpointPublicKey: runtime.checkpointKey.key.publicKey } : {}),
  });
  let alerts: PollingLoop | undefined;
  const stopJobs = async () => {
    await Promise.all([
      demo?.close(),
      worker?.stop(),
      rollbacks.stop(),
      approvalJobs?.stop(),
      checkpoints?.stop(),
      recovery.stop(),
      quarantine.stop(),
      changeStreams?.stop(),
      retention.stop(),
      siem.stop(),
      alerts?.stop(),
    ]);
    await runtime.close();
  };
  const server = await listen(app, config).catch(async (error: unknown) => {
    await stopJobs();
    throw error;
  });
  const listeningUrl = httpUrlOf(config.host, (server.address() as AddressInfo).port);
  // Alerts start once the port is known: their links lead to the console at this server's address.
  alerts = startAlertJobs(deps, {
    logger,
    pollMs: config.alerts.pollMs,
    evaluation: {
      holder: leaseHolderName(),
      leaseMs: config.alerts.leaseMs,
      consoleUrl: (config.publicUrl ?? listeningUrl).replace(/\/+$/, ''),
      checkEveryMs: config.alerts.checkEveryMs,
      eventsPerRound: 1_000,
    },
    delivery: {
      holder: leaseHolderName(),
      leaseMs: config.alerts.leaseMs,
      requestTimeoutMs: Math.floor(config.alerts.leaseMs / 3),
      retryMaxMs: config.alerts.retryMaxMs,
      maxAttempts: config.alerts.maxAttempts,
    },
  });
  logger.info('listening', {
    url: listeningUrl,
    database: runtime.database.kind,
    dataDir: runtime.database.kind === 'pglite' ? config.dataDir : undefined,
  });
  demo
    ?.onListening(listeningUrl)
    .catch((error: unknown) => logger.error('demo batch failed', { error: errorLogField(error) }));
  const stop = () => {
    logger.info('stopping');
    // A client that stalls mid-request held the stop for up to REQUEST_TIMEOUT_MS (2 minutes), past
    // any supervisor's patience. What a cut-off request was writing is taken over as after a crash.
    const cutOff = setTimeout(() => {
      logger.info('stopping: closing requests still in flight', { afterMs: STOP_GRACE_MS });
      server.closeAllConnections();
    }, STOP_GRACE_MS);
    server.close(() => {
      clearTimeout(cutOff);
      void stopJobs().then(() => process.exit(0));
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Listens where HOST and PORT say, or fails with a sentence naming the setting to change. */
function listen(app: ReturnType<typeof createApp>, config: Config): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createHttpServer(app, { requestTimeoutMs: config.requestTimeoutMs });
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${config.host}:${config.port}`;
      const why =
        error.code === 'EADDRINUSE'
          ? 'the port is in use. Stop what holds it, or set PORT to a free port (0 picks one).'
          : error.code === 'EACCES'
            ? `this user may not use port ${config.port}. Set PORT to 1024 or above.`
            : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN' || error.code === 'EADDRNOTAVAIL'
              ? 'HOST is no address of this machine. Set HOST to one, such as 127.0.0.1 or 0.0.0.0.'
              : `${error.message}. Check HOST and PORT.`;
      reject(new AppError('CONFIG_INVALID', `The server cannot listen on ${where}: ${why}`, { cause: error }));
    });
    server.listen(config.port, config.host, () => resolve(server));
  });
}

/** Signed audit checkpoints (issue 17), or a log line saying why there are none. */
function startCheckpointsIfKeyed(config: Config, runtime: Runtime, deps: ServiceDeps): PollingLoop | undefined {
  const loaded = runtime.checkpointKey;
  if (!loaded.key) {
    logger.info('audit checkpoints off', { why: loaded.why });
    return undefined;
  }
  const { file, everyEvents, everyMs } = config.auditCheckpoints;
  logger.info('audit checkpoints on', { keyId: loaded.key.keyId, file, everyEvents, everySeconds: everyMs / 1000 });
  return startCheckpointJob(deps, {
    logger,
    publishing: { key: loaded.key, everyEvents, everyMs, publish: checkpointFile(file) },
  });
}

main().catch((error: unknown) => {
  logger.error('could not start', { error: errorLogField(error) });
  process.exit(1);
});
