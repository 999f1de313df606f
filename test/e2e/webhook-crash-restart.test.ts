import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SANDBOX_PORTAL_ID } from '../../server/src/sandbox/start-sandbox.ts';
import { signV3 } from '../support/webhooks.ts';
import { http, serverEnv, startNodeProcess, urlFromLog, type NodeProcess } from './support/processes.ts';
import { migratedDataFolder } from '../support/data-folders.ts';

// A delivery HubSpot got a 200 for must not be lost when the server dies before processing it:
// the stored event is the job, and the next start takes it.
describe('a webhook stored, then the server killed before processing it', () => {
  const data = migratedDataFolder('ag-e2e-webhook-crash-');
  let server: NodeProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('is processed after a kill -9 and a restart, with its effect happening once', async () => {
    server = startNodeProcess('server/src/main.ts', serverEnv(data.dir, { WEBHOOK_WORKER: 'off' }));
    const serverUrl = await urlFromLog(server, 'listening');
    await server.waitForLine((line) => line.startsWith('Try next'));
    const adminToken = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    const secret = fs.readFileSync(path.join(data.dir, 'demo', 'webhook.secret'), 'utf8');
    const pending = await http('GET', `${serverUrl}/v1/admin/approvals?status=pending`, { token: adminToken });
    const approval = pending.body.approvals[0] as { id: string; recordId: string; items: { property: string }[] };

    const event = {
      eventId: 990_001,
      subscriptionId: 1,
      portalId: Number(SANDBOX_PORTAL_ID),
      appId: 1,
      occurredAt: Date.now() + 1_000,
      subscriptionType: 'contact.propertyChange',
      attemptNumber: 0,
      objectId: Number(approval.recordId),
      propertyName: approval.items[0]!.property,
      propertyValue: 'changed by a person',
      changeSource: 'CRM_UI',
      sourceId: 'userId:77',
    };
    const deliver = async (base: string) => {
      const url = `${base}/webhooks/hubspot`;
      const body = JSON.stringify([event]);
      const timestamp = Date.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hubspot-signature-v3': signV3({ clientSecret: secret, url, body, timestamp }),
          'x-hubspot-request-timestamp': String(timestamp),
        },
        body,
      });
      return response.status;
    };
    expect(await deliver(serverUrl)).toBe(200);
    expect(
      (await http('GET', `${serverUrl}/v1/admin/approvals/${approval.id}`, { token: adminToken })).body.status,
    ).toBe('pending');

    server.child.kill('SIGKILL');
    await new Promise((resolve) => server!.child.once('exit', resolve));

    server = startNodeProcess('server/src/main.ts', serverEnv(data.dir));
    const restartedUrl = await urlFromLog(server, 'listening');
    await expect
      .poll(
        async () =>
          (await http('GET', `${restartedUrl}/v1/admin/approvals/${approval.id}`, { token: adminToken })).body.status,
        { timeout: 20_000, interval: 250 },
      )
      .toBe('stale');
    // HubSpot retries the same delivery: it is answered, and has no second effect.
    expect(await deliver(restartedUrl)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const audit = await fetch(`${restartedUrl}/v1/admin/audit/export?format=csv`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    const staleEvents = (await audit.text())
      .split('\n')
      .filter((line) => line.includes('approval.stale') && line.includes(approval.id));
    expect(staleEvents).toHaveLength(1);
    // Two first starts of a server (each migrating a new PGlite folder) on a loaded CI machine.
  }, 120_000);
});
