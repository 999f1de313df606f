import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Signature } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookEvent } from '../../server/src/sandbox/hubspot/webhooks.ts';
import { startNodeProcess, urlFromLog, type NodeProcess } from './support/processes.ts';
import { migratedDataFolder } from '../support/data-folders.ts';

const run = promisify(execFile);
const CLIENT_SECRET = 'e2e-client-secret';

// The sandbox on its own (`npm run sandbox`): a small receiver checks each delivery with HubSpot's
// own signature helper. The server's intake taking the sandbox's webhooks is tested end to end in
// demo-start.test.ts (a person's edit makes an approval stale) and webhook-crash-restart.test.ts.
describe('a person’s edit in the sandbox, delivered as a webhook', () => {
  const data = migratedDataFolder('ag-e2e-webhook-');
  let receiver: Server;
  let receiverUrl: string;
  let sandbox: NodeProcess;
  let sandboxUrl: string;
  const deliveries: { valid: boolean; events: WebhookEvent[] }[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const valid = Signature.isValid({
          signatureVersion: 'v3',
          method: req.method ?? '',
          clientSecret: CLIENT_SECRET,
          requestBody: body,
          signature: String(req.headers['x-hubspot-signature-v3']),
          url: receiverUrl,
          timestamp: Number(req.headers['x-hubspot-request-timestamp']),
        });
        deliveries.push({ valid, events: JSON.parse(body) as WebhookEvent[] });
        res.writeHead(valid ? 204 : 401).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/hubspot`;
    sandbox = startNodeProcess('server/src/sandbox/main.ts', {
      DATA_DIR: data.dir,
      SANDBOX_PORT: '0',
      SANDBOX_WEBHOOK_URL: receiverUrl,
      SANDBOX_WEBHOOK_SECRET: CLIENT_SECRET,
    });
    sandboxUrl = await urlFromLog(sandbox, 'sandbox listening');
  });
  afterAll(async () => {
    await sandbox.stop();
    await new Promise((resolve) => receiver.close(resolve));
    data.remove();
  });

  it('sends one signed contact.propertyChange naming the person, and nothing for the seeded import', async () => {
    await run(process.execPath, [
      path.resolve('server/src/cli/main.ts'),
      'sandbox',
      'edit',
      '--object',
      'contacts',
      '--id',
      '1042',
      '--property',
      'lifecyclestage',
      '--value',
      'customer',
      '--as-user',
      '555',
      '--sandbox-url',
      sandboxUrl,
      '--json',
    ]);
    const deadline = Date.now() + 5_000;
    while (deliveries.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));

    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.valid).toBe(true);
    expect(deliveries[0]?.events).toEqual([
      expect.objectContaining({
        subscriptionType: 'contact.propertyChange',
        objectId: 1042,
        propertyName: 'lifecyclestage',
        propertyValue: 'customer',
        changeSource: 'CRM_UI',
        sourceId: 'userId:555',
        attemptNumber: 0,
      }),
    ]);
  });
});
