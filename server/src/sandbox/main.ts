/**
 * `npm run sandbox`: the local HubSpot sandbox on its own (`npm run sandbox -- --crm salesforce`: the
 * local Salesforce instead), for end-to-end tests and for running
 * the server against it with HUBSPOT_API_BASE_URL. `npm start` in demo mode runs the same thing in-process.
 */
import { loadConfig } from '../config.ts';
import { jsonLogger } from '../logger.ts';
import { startSalesforceSandbox, SANDBOX_SALESFORCE_CLIENT } from './salesforce/start.ts';
import { startSandbox } from './start-sandbox.ts';

const logger = jsonLogger();

const crmAt = process.argv.indexOf('--crm');
const crm = crmAt === -1 ? 'hubspot' : process.argv[crmAt + 1];

try {
  // Anything but `--crm NAME` was ignored without a word.
  const unknown = process.argv.slice(2).find((arg, index, args) => arg !== '--crm' && args[index - 1] !== '--crm');
  if (unknown !== undefined)
    throw new Error(
      `Unknown option ${unknown}: the sandbox takes only --crm hubspot|salesforce (npm run sandbox -- --crm salesforce).`,
    );
  const config = loadConfig();
  if (crm === 'salesforce') {
    const salesforce = await startSalesforceSandbox({ port: config.sandboxPort });
    logger.info('salesforce sandbox listening', {
      url: salesforce.url,
      orgId: salesforce.orgId,
      pubSubEndpoint: salesforce.pubSubEndpoint,
    });
    process.stdout.write(
      [
        `Local Salesforce at ${salesforce.url} (org ${salesforce.orgId}); its External Client App is ${SANDBOX_SALESFORCE_CLIENT.clientId}.`,
        `Its change events: SALESFORCE_PUBSUB_ENDPOINT=${salesforce.pubSubEndpoint} SALESFORCE_PUBSUB_INSECURE_TLS=true for the server.`,
        // A server reaches an org off Salesforce's domains only in the networks its operator allows.
        `It listens on loopback: OUTBOUND_ALLOWED_NETWORKS=${new URL(salesforce.url).hostname}/32 for the server and the CLI.`,
        'Connect a workspace to it:',
        `  OUTBOUND_ALLOWED_NETWORKS=${new URL(salesforce.url).hostname}/32 npx agent-governance workspace add --crm salesforce --name Sandbox --salesforce-login-url ${salesforce.url} --salesforce-client-id ${SANDBOX_SALESFORCE_CLIENT.clientId} --salesforce-client-secret ${SANDBOX_SALESFORCE_CLIENT.clientSecret}`,
        '',
      ].join('\n'),
    );
    const stop = () => void salesforce.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } else if (crm !== 'hubspot') {
    throw new Error(`--crm must be hubspot or salesforce; got ${crm}`);
  } else {
    const sandbox = await startSandbox({
      dataDir: config.dataDir,
      port: config.sandboxPort,
      webhook: config.sandboxWebhook,
    });
    // The token is the sandbox's fixed one, accepted by nothing else: printed so a workspace can be connected to it (issue 18).
    logger.info('sandbox listening', {
      url: sandbox.url,
      portalId: sandbox.portalId,
      accessToken: sandbox.accessToken,
      seeded: sandbox.seeded,
      webhooks: config.sandboxWebhook === undefined ? 'off' : 'on',
    });
    process.stdout.write(
      [
        `Local HubSpot sandbox at ${sandbox.url} (portal ${sandbox.portalId}); it accepts the access token ${sandbox.accessToken}.`,
        'Connect a workspace to it (the server and the CLI need HUBSPOT_API_BASE_URL set to the sandbox):',
        `  HUBSPOT_API_BASE_URL=${sandbox.url} npx agent-governance workspace add --name Sandbox --hubspot-portal-id ${sandbox.portalId} --hubspot-token ${sandbox.accessToken}`,
        '',
      ].join('\n'),
    );
    const stop = () => void sandbox.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
} catch (error) {
  logger.error('sandbox could not start', { error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
