import { loadCheckpointKey, type LoadedCheckpointKey } from './checkpoint-key.ts';
import type { Config } from './config.ts';
import { salesforceConnectionSchema } from '../../shared/salesforce-connection.ts';
import type { CrmVendor } from '../../shared/crm-names.ts';
import { createHubSpotCrm, type HubSpotCrmOptions } from './crm/hubspot/adapter.ts';
import { asSalesforceCrm, createSalesforceCrm, type SalesforceCrmOptions } from './crm/salesforce/adapter.ts';
import { checkV3Signature } from './crm/hubspot/webhook-signature.ts';
import { verifyCanvasSignedRequest } from './crm/salesforce/canvas.ts';
import { changeStreamOfConnection } from './crm/salesforce/change-events/connection-stream.ts';
import type { OrgAddresses } from './crm/salesforce/org-addresses.ts';
import { AllowedNetworks } from './domain/outbound-addresses.ts';
import { routedCrm } from './crm/connections.ts';
import type { CrmPort } from './crm/port.ts';
import { loadSecretBox, type SecretBox } from './secrets.ts';
import { errorLogField, jsonLogger } from './logger.ts';
import {
  type ServiceDeps,
  leaseHolderName,
  outboundTo,
  workBehindAnswers,
  workspaceTurns,
} from './services/common/index.ts';
import { recordCrmBudgetStop, recordCrmConnectionRefused } from './services/governance/index.ts';
import type { OpenChangeStream } from './services/webhooks/index.ts';
import { openDatabase, type Database } from './store/database.ts';
import { type CrmConnection, setSalesforceSession, type WorkspaceRow } from './store/workspace-store.ts';
import { parseJson } from '../../shared/json-text.ts';

/** The Salesforce Canvas signed-request check the console's Canvas route uses (issue 20). */
export const canvasSignedRequestCheck = verifyCanvasSignedRequest;

export interface Runtime {
  database: Database;
  deps: ServiceDeps;
  /** Signs audit checkpoints; kept out of ServiceDeps, as only checkpointing and verify use it. */
  checkpointKey: LoadedCheckpointKey;
  /**
   * Where workspaces' org connections may go besides Salesforce's domains: OUTBOUND_ALLOWED_NETWORKS,
   * and the origins of a local Salesforce this process started itself (demo mode adds its own).
   */
  crmAddresses: CrmAddresses;
  close(): Promise<void>;
}

/** How a process uses the database, where it changes how the database is opened. */
export interface RuntimeOptions {
  /** PGlite's buffer pool in MB (openDatabase's default unless given). */
  sharedBuffersMb?: number;
}

/** Where org connections may go: the operator's networks, and local origins demo mode adds once it has started its Salesforce. */
export interface CrmAddresses extends OrgAddresses {
  localOrigins: Set<string>;
}

/** What the server and the CLI share: the same configuration opens the same database and CRM connections. */
export async function openRuntime(config: Config, holder: string, options: RuntimeOptions = {}): Promise<Runtime> {
  const database = await openMigratedDatabase(config, holder, options);
  try {
    const secrets = loadSecretBox({
      secretsKey: config.secretsKey,
      dataDir: config.dataDir,
      usingPostgres: database.kind === 'postgres',
    });
    const checkpointKey = loadCheckpointKey({
      checkpointKey: config.auditCheckpoints.key,
      dataDir: config.dataDir,
      usingPostgres: database.kind === 'postgres',
    });
    const crmAddresses: CrmAddresses = {
      networks: new AllowedNetworks(config.outboundAllowedNetworks),
      localOrigins: new Set(),
    };
    const behindAnswers = workBehindAnswers((error) =>
      jsonLogger().error('work behind an answer failed; its durable job takes it again', {
        error: errorLogField(error),
      }),
    );
    const deps: ServiceDeps = {
      db: database.db,
      clock: () => new Date(),
      secrets,
      crmFor: byCrm(
        hubspotResolver({
          baseUrl: config.hubspotApiBaseUrl,
          callsPer10s: config.hubspotCallsPer10s,
          open: (sealed) => secrets.open(sealed),
          onAuthRefused: recordAdapterRefusal(() => deps, 'hubspot'),
        }),
        salesforceResolver({
          secrets,
          addresses: crmAddresses,
          saveSession: (workspaceId, sealed) => setSalesforceSession(database.db, workspaceId, sealed),
          onBudgetStop: (workspaceId, usage) => recordCrmBudgetStop(deps, workspaceId, usage),
          onAuthRefused: recordAdapterRefusal(() => deps, 'salesforce'),
        }),
      ),
      checkSignedRequest: checkV3Signature,
      outbound: outboundTo(config.outboundAllowedNetworks, config.outboundProxy),
      changeSetLease: { holder: leaseHolderName(), leaseMs: config.changeSetLeaseMs },
      approvalApplyClaimMs: config.approvalApplyClaimMs,
      behindAnswers,
      // One at a time: a workspace's change sets are decided one by one under its audit chain's lock anyway.
      changeSetTurns: workspaceTurns(1),
    };
    const close = async () => {
      await behindAnswers.idle();
      await database.close();
    };
    return { database, deps, checkpointKey, crmAddresses, close };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/**
 * The database with its migrations applied, and nothing else: no key is read, so `migrate` runs
 * where a deploy step holds only DATABASE_URL. Closed again when migrating fails.
 */
export async function openMigratedDatabase(
  config: Config,
  holder: string,
  options: RuntimeOptions = {},
): Promise<Database> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    holder,
    sharedBuffersMb: options.sharedBuffersMb,
  });
  try {
    await database.migrate();
    return database;
  } catch (error) {
    await database.close();
    throw error;
  }
}

/**
 * Each workspace's port: the adapter of the CRM it connects, or, where it connects both (issue 20),
 * one port routing each call to the connection its object type names.
 */
export function byCrm(
  hubspot: (workspace: WorkspaceRow) => CrmPort,
  salesforce: (workspace: WorkspaceRow) => CrmPort,
): (workspace: WorkspaceRow) => CrmPort {
  const adapterOf = (workspace: WorkspaceRow) =>
    workspace.crm === 'salesforce' ? salesforce(workspace) : hubspot(workspace);
  return (workspace) =>
    routedCrm([
      adapterOf(workspace),
      ...workspace.connections
        .filter((connection) => connection.crm !== workspace.crm)
        .map((connection) => adapterOf(asFirstConnection(workspace, connection))),
    ]);
}

/** The workspace as its resolver reads it when `connection` is its CRM: the row's columns hold a first connection. */
function asFirstConnection(workspace: WorkspaceRow, connection: CrmConnection): WorkspaceRow {
  return {
    ...workspace,
    crm: connection.crm,
    hubspotPortalId: connection.crm === 'salesforce' ? `salesforce:${connection.accountId}` : connection.accountId,
    hubspotTokenEnc: connection.credentialsEnc,
    salesforceSessionEnc: connection.sessionEnc,
  };
}

/** Records that a CRM refused the sealed credentials a workspace's adapter was made from. */
export type AuthRefusalRecorder = (
  workspaceId: string,
  refusal: { credentialsEnc: string; reason: string },
) => Promise<unknown>;

/**
 * How the resolvers' adapters report a refusal: audited as `crm.connection_refused` (once per
 * credentials, which alerts), as the adapter saw it. `deps` is read when a refusal comes, as the
 * resolvers are made before the deps that hold them.
 */
export function recordAdapterRefusal(deps: () => ServiceDeps, crm: CrmVendor): AuthRefusalRecorder {
  return (workspaceId, refusal) =>
    recordCrmConnectionRefused(deps(), workspaceId, { crm, ...refusal, seenBy: 'crm-adapter' });
}

/**
 * The adapter's hook for a refusal of the workspace's sealed credentials: recorded for a saved
 * workspace only (the check before `workspace add` stores it has no row to record it on), never
 * failing the call that met it.
 */
function reportRefusalOf(workspace: WorkspaceRow, record: AuthRefusalRecorder | undefined) {
  return (reason: string) => {
    if (workspace.adminTokenHash !== '' && record)
      void record(workspace.id, { credentialsEnc: workspace.hubspotTokenEnc, reason }).catch(() => undefined);
  };
}

/**
 * One Salesforce adapter per workspace and connection, kept for the process's life: its describe
 * cache and its view of the org's API usage are shared by every request. Each access token it mints
 * is sealed and stored, so a restart reuses it rather than signing in again.
 */
export function salesforceResolver(options: {
  secrets: Pick<SecretBox, 'seal' | 'open'>;
  /** Where the org may be reached besides Salesforce's domains (OUTBOUND_ALLOWED_NETWORKS). */
  addresses: OrgAddresses;
  saveSession: (workspaceId: string, sealed: string) => Promise<void>;
  onBudgetStop: (workspaceId: string, usage: { used: number; limit: number; share: number }) => Promise<void>;
  /** The org refused the sealed credentials a saved workspace's adapter was made from (audited once per credentials). */
  onAuthRefused?: AuthRefusalRecorder;
  /** Tests name the call client here. */
  adapter?: Partial<SalesforceCrmOptions>;
}): (workspace: WorkspaceRow) => CrmPort {
  const adapters = new Map<string, { sealed: string; crm: CrmPort }>();
  return (workspace) => {
    const cached = adapters.get(workspace.id);
    if (cached && cached.sealed === workspace.hubspotTokenEnc) return cached.crm;
    const connection = salesforceConnectionSchema.parse(parseJson(options.secrets.open(workspace.hubspotTokenEnc)));
    const stored = workspace.salesforceSessionEnc;
    const crm = createSalesforceCrm({
      loginUrl: connection.loginUrl,
      auth: connection.auth,
      addresses: options.addresses,
      apiShare: connection.apiShare,
      ...(stored ? { session: parseJson(options.secrets.open(stored)) as SalesforceCrmOptions['session'] } : {}),
      // An unsaved workspace (the check before `workspace add` stores it) has no row to keep a token in.
      onSession: (session) => {
        if (workspace.adminTokenHash !== '')
          void options.saveSession(workspace.id, options.secrets.seal(JSON.stringify(session))).catch(() => undefined);
      },
      onBudgetStop: (usage) => void options.onBudgetStop(workspace.id, usage).catch(() => undefined),
      onAuthRefused: reportRefusalOf(workspace, options.onAuthRefused),
      ...options.adapter,
    });
    if (workspace.adminTokenHash !== '') adapters.set(workspace.id, { sealed: workspace.hubspotTokenEnc, crm });
    return crm;
  };
}

/**
 * How the change-stream followers open a Salesforce workspace's stream: through its sealed
 * connection, the workspace's adapter telling what kind of user made each change.
 */
export function salesforceChangeStreams(options: {
  secrets: Pick<SecretBox, 'open'>;
  crmFor: (workspace: WorkspaceRow) => CrmPort;
  addresses: OrgAddresses;
  pubSubEndpoint: string;
  insecureTls: boolean;
}): (workspace: WorkspaceRow) => OpenChangeStream {
  return (workspace) => {
    // The org may be the workspace's first CRM or its second (issue 20).
    const sealed =
      workspace.connections.find((candidate) => candidate.crm === 'salesforce')?.credentialsEnc ??
      workspace.hubspotTokenEnc;
    const connection = salesforceConnectionSchema.parse(parseJson(options.secrets.open(sealed)));
    return changeStreamOfConnection({
      loginUrl: connection.loginUrl,
      auth: connection.auth,
      addresses: options.addresses,
      pubSubEndpoint: options.pubSubEndpoint,
      insecureTls: options.insecureTls,
      // Resolved at each lookup: the resolver keeps one adapter per workspace and connection.
      userKinds: (userIds) => {
        const crm = asSalesforceCrm(options.crmFor(workspace).forObject('salesforce:Contact'));
        return crm ? crm.commitUserKinds(userIds) : Promise.resolve(new Map());
      },
    });
  };
}

/**
 * One adapter per workspace and token, kept for the process's life, so its rate limiter and
 * property cache are shared by every request to that HubSpot account.
 */
export function hubspotResolver(options: {
  baseUrl: string;
  callsPer10s: number;
  open: (sealed: string) => string;
  /** HubSpot answered 401 to the sealed token a saved workspace's adapter was made from (audited once per credentials). */
  onAuthRefused?: AuthRefusalRecorder;
  /** Tests and benchmarks tune retry timing here. */
  adapter?: Partial<HubSpotCrmOptions>;
}): (workspace: WorkspaceRow) => CrmPort {
  const adapters = new Map<string, { sealed: string; crm: CrmPort }>();
  return (workspace) => {
    const cached = adapters.get(workspace.id);
    if (cached && cached.sealed === workspace.hubspotTokenEnc) return cached.crm;
    const crm = createHubSpotCrm({
      accessToken: options.open(workspace.hubspotTokenEnc),
      basePath: options.baseUrl,
      rateLimit: { maxCalls: options.callsPer10s, intervalMs: 10_000 },
      onAuthRefused: reportRefusalOf(workspace, options.onAuthRefused),
      ...options.adapter,
    });
    adapters.set(workspace.id, { sealed: workspace.hubspotTokenEnc, crm });
    return crm;
  };
}
