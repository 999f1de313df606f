import { signInUrl } from '../../../shared/console-api.ts';
import { loadConfig, type Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { byCrm, hubspotResolver, recordAdapterRefusal, type Runtime } from '../runtime.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { issueSignInLink } from '../services/console/index.ts';
import { listConnectedPortals } from '../services/governance/index.ts';
import { findApprovals } from '../services/held/index.ts';
import { SANDBOX_PORTAL_ID, startSandbox, type RunningSandbox } from '../sandbox/start-sandbox.ts';
import { demoFiles, displayPath } from './demo-files.ts';
import { DEMO_APPROVER, ensureDemoWorkspace, type DemoWorkspace } from './demo-workspace.ts';
import { describeOutcome, enrichmentBatch, submitChangeSet } from './enrichment-batch.ts';
import { newId } from '../sandbox/salesforce/state.ts';
import type { SalesforceDemo } from './salesforce-demo.ts';

/** The account of the local Salesforce's org (its ids are numbered, so the same on every start). */
const SANDBOX_SALESFORCE_ACCOUNT = `salesforce:${newId('00D', 1)}`;

export interface Demo {
  /** The server's dependencies, with HubSpot pointed at the sandbox. */
  deps: ServiceDeps;
  /** With the local Salesforce: where its change events are published, for the server's change-stream followers. */
  changeStreams?: { pubSubEndpoint: string; insecureTls: boolean };
  /** Runs once the server listens: prints where things are, submits the scripted batch through the API. */
  onListening(serverUrl: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Demo mode: no Postgres, no HubSpot URL and no workspace but the sandbox's. Anything else means
 * a real account is (or is about to be) connected, and the sandbox must stay out of the way.
 */
export async function wantsDemo(config: Config, deps: ServiceDeps): Promise<boolean> {
  if (config.demo === 'off' || config.databaseUrl !== undefined || config.hubspotApiBaseUrlConfigured) return false;
  const workspaces = await listConnectedPortals(deps);
  return workspaces.every(
    (workspace) =>
      workspace.hubspotPortalId === SANDBOX_PORTAL_ID || workspace.hubspotPortalId === SANDBOX_SALESFORCE_ACCOUNT,
  );
}

/** Starts the sandbox in this process and sets up the demo workspace; returns undefined when not in demo mode. */
export async function startDemoIfWanted(input: {
  config: Config;
  runtime: Runtime;
  logger: Logger;
  argv: readonly string[];
  print: (line: string) => void;
}): Promise<Demo | undefined> {
  const { config, runtime, logger, print } = input;
  if (!(await wantsDemo(config, runtime.deps))) return undefined;
  const sandbox = await startSandbox({
    dataDir: config.dataDir,
    port: config.sandboxPort,
    webhook: config.sandboxWebhook,
  }).catch((error: unknown) => {
    const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
    throw new Error(
      inUse
        ? `The HubSpot sandbox cannot listen on port ${config.sandboxPort}: it is in use. Set SANDBOX_PORT, or DEMO=off to run without the demo.`
        : String(error),
      { cause: error },
    );
  });
  logger.info('sandbox listening', { url: sandbox.url, seeded: sandbox.seeded });
  // Unless configured elsewhere, the sandbox's webhooks come to this server, signed with a secret the demo keeps.
  const webhookSecret = config.sandboxWebhook?.secret ?? demoFiles(config.dataDir).webhookSecret();
  const deps: ServiceDeps = {
    ...runtime.deps,
    crmFor: byCrm(
      hubspotResolver({
        baseUrl: sandbox.url,
        callsPer10s: config.hubspotCallsPer10s,
        open: (sealed) => runtime.deps.secrets.open(sealed),
        // The sandbox's app is ours: its writes in property history are our own.
        adapter: { appId: sandbox.state.appId },
        onAuthRefused: recordAdapterRefusal(() => deps, 'hubspot'),
      }),
      // A Salesforce workspace's connection names its org's URL: the local Salesforce's, in the demo.
      runtime.deps.crmFor,
    ),
  };
  let workspace: DemoWorkspace;
  let salesforce: SalesforceDemo | undefined;
  try {
    workspace = await ensureDemoWorkspace({
      deps,
      dataDir: config.dataDir,
      portalId: sandbox.portalId,
      hubspotToken: sandbox.accessToken,
      webhookSecret,
      logger,
    });
    if (config.demoSalesforce || input.argv.includes('--salesforce')) {
      // Loaded only when asked for: the local Salesforce brings gRPC and Avro with it.
      const { startSalesforceDemo } = await import('./salesforce-demo.ts');
      salesforce = await startSalesforceDemo({
        deps,
        dataDir: config.dataDir,
        port: config.salesforceSandboxPort,
        logger,
        started: (url) => runtime.crmAddresses.localOrigins.add(new URL(url).origin),
      });
    }
  } catch (error) {
    await sandbox.close();
    throw error;
  }
  const runBatch = config.demoBatch && !input.argv.includes('--no-demo-batch');
  return {
    deps,
    ...(salesforce ? { changeStreams: { pubSubEndpoint: salesforce.sandbox.pubSubEndpoint, insecureTls: true } } : {}),
    async onListening(serverUrl) {
      if (!config.sandboxWebhook)
        sandbox.sendWebhooksTo({ url: `${serverUrl}/webhooks/hubspot`, secret: webhookSecret });
      const link = await issueSignInLink(deps, { workspaceId: workspace.workspaceId });
      // A fresh link on every start: it works once, so the one printed last time is spent or expired.
      const consoleLine = `  web console:     ${signInUrl(serverUrl, link.token)}   (one-time sign-in as user ${link.crmUserId}, ${link.role}; 15 minutes)`;
      printWelcome({ print, serverUrl, sandbox, workspace, consoleLine, dataDir: config.dataDir });
      if (salesforce) await printSalesforce(print, serverUrl, salesforce, deps, config.dataDir);
      let batchId: string | undefined;
      let changeSetId: string | undefined;
      if (runBatch) {
        const files = demoFiles(config.dataDir);
        const token = workspace.created?.enrichmentToken ?? files.readEnrichmentToken();
        if (token === undefined) {
          print(
            `(No enrichment agent token in ${displayPath(files.enrichmentTokenFile)}, so no demo batch: delete the data folder to start the demo afresh.)`,
          );
        } else {
          const changeSet = await submitChangeSet({
            serverUrl,
            agentToken: token,
            request: enrichmentBatch(files.takeBatchNumber()),
          });
          batchId = changeSet.batchId;
          changeSetId = changeSet.id;
          print('');
          for (const line of describeOutcome(changeSet)) print(line);
        }
      }
      // One held value to approve and another for a person to edit, so the edit really makes an approval stale.
      const listed = batchId
        ? await findApprovals(deps, workspace.workspaceId, {
            batchId,
            kind: 'field_change',
            status: 'pending',
            limit: 2,
          })
        : [];
      const [held, toEdit] = listed.flatMap((approval) => (approval.kind === 'field_change' ? [approval] : []));
      const edit = toEdit ?? held;
      printNextSteps({
        print,
        serverUrl,
        sandboxUrl: sandbox.url,
        dataDir: config.dataDir,
        batchId,
        changeSetId,
        heldApprovalId: toEdit ? held?.id : undefined,
        personEdit: edit?.items[0]
          ? { recordId: edit.recordId, property: edit.items[0].property }
          : { recordId: '1001', property: 'jobtitle' },
      });
    },
    close: async () => {
      await Promise.all([sandbox.close(), salesforce?.sandbox.close()]);
    },
  };
}

/** The Salesforce workspace's lines: where the local Salesforce is, its tokens the first time, a console sign-in of its own. */
async function printSalesforce(
  print: (line: string) => void,
  serverUrl: string,
  salesforce: SalesforceDemo,
  deps: ServiceDeps,
  dataDir: string,
): Promise<void> {
  const { sandbox } = salesforce;
  const counts = (
    [
      ['Contact', 'Contacts'],
      ['Lead', 'Leads'],
      ['Opportunity', 'Opportunities'],
    ] as const
  )
    .map(([name, plural]) => `${sandbox.state.objects.get(name)?.records.size ?? 0} ${plural}`)
    .join(', ');
  print('');
  print(
    `  Salesforce sandbox: ${sandbox.url}   (org ${sandbox.orgId}: ${counts}; change events at ${sandbox.pubSubEndpoint})`,
  );
  print(`  workspace:          ${salesforce.workspaceId}   (example Salesforce policy, agent demo-sf-enricher)`);
  if (salesforce.created) {
    print(`  admin token:        ${salesforce.created.adminToken}   (shown this once)`);
    print(`  enrichment agent:   ${salesforce.created.enrichmentToken}   (shown this once)`);
    demoFiles(dataDir).salesforceTokensShown();
  }
  const link = await issueSignInLink(deps, { workspaceId: salesforce.workspaceId });
  print(
    `  web console:        ${signInUrl(serverUrl, link.token)}   (one-time sign-in as Salesforce user ${link.crmUserId}, ${link.role}; 15 minutes)`,
  );
  const contact = [...(sandbox.state.objects.get('Contact')?.records.keys() ?? [])][0] ?? '';
  print(
    `  curl -s -X POST ${sandbox.url}/_sandbox/edit -d '{"object":"Contact","id":"${contact}","values":{"Department":"Set by a person"}}'   # a person's edit in "Salesforce", seen through its change event`,
  );
}

function printWelcome(input: {
  print: (line: string) => void;
  serverUrl: string;
  sandbox: RunningSandbox;
  workspace: DemoWorkspace;
  /** The console's sign-in link, with the server's other addresses, before the tokens. */
  consoleLine: string;
  dataDir: string;
}) {
  const { print, sandbox, workspace } = input;
  const records = sandbox.state.objects;
  print('Agent Governance is running in demo mode, against a local HubSpot sandbox (no account needed).');
  print(`  server:          ${input.serverUrl}   (PGlite in ${displayPath(input.dataDir)})`);
  print(
    `  HubSpot sandbox: ${sandbox.url}   (portal ${sandbox.portalId}: ${records.contacts.records.size} contacts, ${records.deals.records.size} deals${sandbox.seeded ? ', freshly seeded' : ''})`,
  );
  print(`  workspace:       ${workspace.workspaceId}   (example policy, agents demo-enricher and demo-outreach)`);
  print(input.consoleLine);
  if (workspace.created) {
    const files = demoFiles(input.dataDir);
    print('');
    print('Tokens, shown this once:');
    print(
      `  admin:             ${workspace.created.adminToken}   (kept, 0600, in ${displayPath(files.adminTokenFile)})`,
    );
    print(
      `  enrichment agent:  ${workspace.created.enrichmentToken}   (kept, 0600, in ${displayPath(files.enrichmentTokenFile)})`,
    );
    print(`  outreach agent:    ${workspace.created.outreachToken}`);
    files.tokensShown();
  }
}

const DEFAULTS = loadConfig({});

/**
 * `npm run demo:agent` as this server needs it: the agent finds the server and its token from HOST,
 * PORT and DATA_DIR, so a server started with other ones printed a command that found neither.
 */
function demoAgentCommand(serverUrl: string, dataDir: string): string {
  const { hostname, port } = new URL(serverUrl);
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  const settings = [
    ...(host === DEFAULTS.host ? [] : [`HOST=${host}`]),
    ...(port === String(DEFAULTS.port) ? [] : [`PORT=${port}`]),
    ...(dataDir === DEFAULTS.dataDir ? [] : [`DATA_DIR=${shellWord(displayPath(dataDir))}`]),
  ];
  return [...settings, 'npm run demo:agent'].join(' ');
}

function shellWord(text: string): string {
  return /^[\w./:-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

function printNextSteps(input: {
  print: (line: string) => void;
  serverUrl: string;
  sandboxUrl: string;
  dataDir: string;
  batchId: string | undefined;
  changeSetId: string | undefined;
  heldApprovalId: string | undefined;
  /** A contact and property a person edits, with a pending approval on it when the batch held one. */
  personEdit: { recordId: string; property: string };
}) {
  const files = demoFiles(input.dataDir);
  const admin = `-H "authorization: Bearer $(cat ${shellWord(displayPath(files.adminTokenFile))})"`;
  const agent = `-H "authorization: Bearer $(cat ${shellWord(displayPath(files.enrichmentTokenFile))})"`;
  const { print, serverUrl } = input;
  print('');
  print('Try next (in another terminal):');
  if (input.changeSetId !== undefined) print(`  curl -s ${serverUrl}/v1/changesets/${input.changeSetId} ${agent}`);
  if (input.heldApprovalId !== undefined) {
    print(
      `  curl -s "${serverUrl}/v1/admin/approvals?batch=${input.batchId}&status=pending" ${admin}   # what waits for a person`,
    );
    print(
      `  curl -s -X POST ${serverUrl}/v1/admin/approvals/${input.heldApprovalId}/decisions ${admin} -H 'content-type: application/json' -d '{"kind":"approve","actingUserId":"${DEMO_APPROVER}"}'   # approve one, as user ${DEMO_APPROVER}`,
    );
  }
  print(
    `  ${demoAgentCommand(serverUrl, input.dataDir)}                      # another enrichment batch, through the API`,
  );
  const { recordId, property } = input.personEdit;
  const sandboxUrl =
    new URL(input.sandboxUrl).port === String(DEFAULTS.sandboxPort) ? '' : ` --sandbox-url ${input.sandboxUrl}`;
  print(
    `  npx agent-governance sandbox edit --object contacts --id ${recordId} --property ${property} --value "Set by a person"${sandboxUrl}   # a person edits in "HubSpot"; the pending approval on it goes stale`,
  );
  print(
    `  curl -s ${input.sandboxUrl}/_sandbox/records/contacts/${recordId}   # the record and its history in the sandbox`,
  );
  print(`  curl -s ${serverUrl}/v1/admin/audit/verify ${admin}`);
  print(
    `  curl -s "${serverUrl}/v1/admin/audit/export?format=csv${input.batchId ? `&batch=${input.batchId}` : ''}" ${admin}`,
  );
}
