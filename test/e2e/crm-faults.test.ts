import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_ACCESS_TOKEN } from '../../server/src/sandbox/hubspot/state.ts';
import { SANDBOX_PORTAL_ID } from '../../server/src/sandbox/start-sandbox.ts';
import { http, serverEnv, startNodeProcess, urlFromLog, type NodeProcess } from './support/processes.ts';
import { emptyDataFolder, migratedDataFolder } from '../support/data-folders.ts';

const run = promisify(execFile);
const UPDATE = 'POST /crm/v3/objects/{type}/batch/update';
const READ = 'POST /crm/v3/objects/{type}/batch/read';

// The server and the sandbox as two processes, as a developer runs them with HUBSPOT_API_BASE_URL
// pointed at `npm run sandbox`; HubSpot misbehaves mid-batch through the sandbox's fault switches.
describe('a change set while HubSpot misbehaves', () => {
  const sandboxData = emptyDataFolder('ag-e2e-sandbox-');
  const serverData = migratedDataFolder('ag-e2e-server-');
  let sandbox: NodeProcess;
  let server: NodeProcess;
  let sandboxUrl: string;
  let serverUrl: string;
  let tokens: { adminToken: string; agentToken: string };

  beforeAll(async () => {
    sandbox = startNodeProcess('server/src/sandbox/main.ts', {
      DATA_DIR: sandboxData.dir,
      SANDBOX_PORT: '0',
      SANDBOX_WEBHOOK_URL: undefined,
      SANDBOX_WEBHOOK_SECRET: undefined,
    });
    sandboxUrl = await urlFromLog(sandbox, 'sandbox listening');
    const env = { ...process.env, ...serverEnv(serverData.dir, { HUBSPOT_API_BASE_URL: sandboxUrl }) } as Record<
      string,
      string
    >;
    const setup = await run(
      process.execPath,
      [path.resolve('test/e2e/support/setup-workspace.ts'), SANDBOX_PORTAL_ID, FAKE_ACCESS_TOKEN],
      { env },
    );
    tokens = JSON.parse(setup.stdout);
    // No approval jobs: the mirror's own batch updates of the held values would meet the same rejection
    // and count in the update route's 207s, early or late as the machine's load has it.
    server = startNodeProcess(
      'server/src/main.ts',
      serverEnv(serverData.dir, { HUBSPOT_API_BASE_URL: sandboxUrl, APPROVAL_JOBS: 'off' }),
    );
    serverUrl = await urlFromLog(server, 'listening');
  });
  afterAll(async () => {
    await server?.stop();
    await sandbox?.stop();
    sandboxData.remove();
    serverData.remove();
  });

  it('runs against the configured HubSpot without starting a sandbox or a demo', () => {
    expect(server.stdout()).toBe('');
    expect(server.stderr()).not.toContain('sandbox listening');
  });

  it('rides out a 429 storm and a 5xx, reports a 207 rejection, and writes every applied value exactly once', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => String(1101 + i));
    const rejected = ids[3]!;
    await http('DELETE', `${sandboxUrl}/_sandbox/calls`);
    await http('PUT', `${sandboxUrl}/_sandbox/faults`, {
      body: {
        failNext: [
          { count: 2, status: 429, retryAfterSeconds: 0, route: READ },
          { count: 1, status: 503, route: UPDATE },
          { count: 3, status: 429, retryAfterSeconds: 0, route: UPDATE },
        ],
        rejectUpdates: [
          { objectType: 'contacts', recordId: rejected, message: 'Property values were not valid for this record' },
        ],
      },
    });

    const submitted = await http('POST', `${serverUrl}/v1/changesets`, {
      token: tokens.agentToken,
      body: {
        batchId: 'faults-1',
        objectType: 'contacts',
        changes: ids.map((recordId, i) => ({
          recordId,
          properties: {
            jobtitle: `Staff Engineer ${i}`,
            city: `Springfield ${i}`,
            phone: `+1 555 01${String(i).padStart(2, '0')}`,
          },
          evidence: {
            source: 'clearbit',
            confidence: 0.92,
            reason: 'Provider match',
            url: `https://example.com/${recordId}`,
          },
        })),
      },
    });
    expect(submitted.status).toBe(201);
    const results: { recordId: string; property: string; decision: string; reasons: string[]; proposed: string }[] =
      submitted.body.results;
    expect(results.some((r) => r.recordId === rejected && r.decision === 'failed')).toBe(true);
    expect(
      results
        .filter((r) => r.recordId === rejected && r.decision !== 'pending_approval')
        .every((r) => r.decision === 'failed' && r.reasons.includes('crm_rejected')),
    ).toBe(true);
    expect(results.filter((r) => r.decision === 'applied').length).toBeGreaterThan(10);

    for (const result of results) {
      const record = await http('GET', `${sandboxUrl}/_sandbox/records/contacts/${result.recordId}`);
      const apiWrites = (record.body.history[result.property] ?? []).filter(
        (entry: { sourceType: string }) => entry.sourceType === 'API',
      );
      const written = result.decision === 'applied' && !result.reasons.includes('value_unchanged');
      expect({ record: result.recordId, property: result.property, apiWrites: apiWrites.length }).toEqual({
        record: result.recordId,
        property: result.property,
        apiWrites: written ? 1 : 0,
      });
      if (written) expect(record.body.values[result.property]).toBe(result.proposed);
    }
    const calls = await http('GET', `${sandboxUrl}/_sandbox/calls`);
    expect(calls.body.byRoute[UPDATE]).toMatchObject({ '429': 3, '503': 1, '207': 1 });
    expect(calls.body.byRoute[READ]).toMatchObject({ '429': 2 });

    expect(await http('GET', `${serverUrl}/v1/admin/audit/verify`, { token: tokens.adminToken })).toMatchObject({
      status: 200,
      body: { ok: true },
    });
  });
});
