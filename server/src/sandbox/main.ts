/**
 * `npm run sandbox`: the local HubSpot sandbox on its own, for end-to-end tests and for running
 * the server against it with HUBSPOT_API_BASE_URL. `npm start` in demo mode runs the same thing in-process.
 */
import { loadConfig } from '../config.ts';
import { jsonLogger } from '../logger.ts';
import { startSandbox } from './start-sandbox.ts';

const logger = jsonLogger();

try {
  const config = loadConfig();
  const sandbox = await startSandbox({ dataDir: config.dataDir, port: config.sandboxPort, webhook: config.sandboxWebhook });
  logger.info('sandbox listening', { url: sandbox.url, portalId: sandbox.portalId, seeded: sandbox.seeded, webhooks: config.sandboxWebhook === undefined ? 'off' : 'on' });
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  logger.error('sandbox could not start', { error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
