/**
 * `npm run demo:agent`: the demo's enrichment agent, run from outside the server. It reads its
 * token from DATA_DIR/demo and submits the next scripted batch through the public agent API.
 */
import { httpUrlOf, loadConfig } from '../config.ts';
import { demoFiles, displayPath } from './demo-files.ts';
import { describeOutcome, enrichmentBatch, submitChangeSet } from './enrichment-batch.ts';

try {
  const config = loadConfig();
  const files = demoFiles(config.dataDir);
  const token = files.readEnrichmentToken();
  if (token === undefined)
    throw new Error(
      `No demo agent token in ${displayPath(files.enrichmentTokenFile)}: run npm start (demo mode) once first.`,
    );
  const serverUrl = httpUrlOf(config.host, config.port);
  const batchNumber = files.takeBatchNumber();
  const changeSet = await submitChangeSet({
    serverUrl,
    agentToken: token,
    request: enrichmentBatch(batchNumber),
  }).catch((error: unknown) => {
    if (error instanceof TypeError) {
      // Nothing reached a server, so the next run sends this batch rather than skipping it.
      files.giveBackBatchNumber(batchNumber);
      throw new Error(`No server answers at ${serverUrl}: start it with npm start.`, { cause: error });
    }
    throw error;
  });
  for (const line of describeOutcome(changeSet)) console.log(line);
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
