/**
 * The three SIEM receivers as their own process, so a test can kill -9 them and start them again
 * on the same ports: `siem-receivers.ts OUT_FILE HEC_TOKEN WEBHOOK_SECRET [OTLP_PORT HEC_PORT WEBHOOK_PORT]`.
 * Each accepted event is appended to OUT_FILE (one JSON line with its receiver's kind) before the
 * request is answered, so whatever was acknowledged is on disk. Prints one JSON line with the URLs.
 */
import fs from 'node:fs';
import { startSiemReceiver, type ReceiverKind } from '../../support/siem-receivers.ts';

const [outFile, hecToken, webhookSecret, ...ports] = process.argv.slice(2);
if (outFile === undefined || hecToken === undefined || webhookSecret === undefined)
  throw new Error('usage: siem-receivers.ts OUT_FILE HEC_TOKEN WEBHOOK_SECRET [OTLP_PORT HEC_PORT WEBHOOK_PORT]');

const kinds: [ReceiverKind, string | undefined][] = [
  ['otlp', undefined],
  ['splunk_hec', hecToken],
  ['webhook', webhookSecret],
];
const urls: Record<string, string> = {};
for (const [index, [kind, secret]] of kinds.entries()) {
  const receiver = await startSiemReceiver({
    kind,
    ...(secret ? { secret } : {}),
    port: Number(ports[index] ?? 0),
    delayMs: 5,
    onEvents: (events) =>
      fs.appendFileSync(outFile, events.map((event) => `${JSON.stringify({ kind, ...event })}\n`).join('')),
  });
  urls[kind] = receiver.url;
}
process.stdout.write(`${JSON.stringify({ message: 'receivers listening', urls })}\n`);
