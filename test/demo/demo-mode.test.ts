import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config.ts';
import { wantsDemo } from '../../server/src/demo/demo-mode.ts';
import { demoFiles } from '../../server/src/demo/demo-files.ts';
import { describeOutcome, enrichmentBatch } from '../../server/src/demo/enrichment-batch.ts';
import { startSalesforceDemo } from '../../server/src/demo/salesforce-demo.ts';
import { salesforceResolver } from '../../server/src/runtime.ts';
import { SANDBOX_PORTAL_ID } from '../../server/src/sandbox/start-sandbox.ts';
import { createWorkspace } from '../../server/src/services/governance/index.ts';
import { changeSetRequestSchema, type ChangeSetResponse } from '../../shared/agent-api.ts';
import { createTestDatabase } from '../support/database.ts';
import { testDeps } from '../support/deps.ts';
import { ADMIN } from '../support/harness.ts';
import { AllowedNetworks } from '../../server/src/domain/outbound-addresses.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
});

describe('demo mode', () => {
  it('starts on a fresh database with no CRM configured, and keeps starting once only the demo workspace exists', async () => {
    const deps = testDeps(database.db);
    expect(await wantsDemo(loadConfig({}), deps)).toBe(true);
    await createWorkspace(
      deps,
      { name: 'Demo', hubspotPortalId: SANDBOX_PORTAL_ID, hubspotToken: 'pat-na1-fake-token' },
      ADMIN,
    );
    expect(await wantsDemo(loadConfig({}), deps)).toBe(true);
  });

  it('keeps starting with the local Salesforce’s demo workspace beside it, and finds that workspace again', async () => {
    const base = testDeps(database.db);
    // As a server configured by default, which reaches loopback only at the local Salesforce it started itself.
    const localOrigins = new Set<string>();
    const deps = {
      ...base,
      crmFor: salesforceResolver({
        secrets: base.secrets,
        addresses: { networks: new AllowedNetworks([]), localOrigins },
        saveSession: async () => {},
        onBudgetStop: async () => {},
      }),
    };
    const quiet = { info() {}, error() {} };
    const started = (url: string) => localOrigins.add(new URL(url).origin);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-demo-sf-'));
    try {
      const first = await startSalesforceDemo({ deps, dataDir, port: 0, logger: quiet, started });
      await first.sandbox.close();
      expect(first.created).toBeDefined();
      expect(await wantsDemo(loadConfig({}), deps)).toBe(true);
      // The stored connection names the first sandbox's URL; a restart on the same port finds the workspace.
      const port = Number(new URL(first.sandbox.url).port);
      // Until a start has shown its tokens (this one stopped before printing), the next start has them to show.
      const again = await startSalesforceDemo({ deps, dataDir, port, logger: quiet, started });
      await again.sandbox.close();
      expect(again.workspaceId).toBe(first.workspaceId);
      expect(again.created).toEqual(first.created);
      demoFiles(dataDir).salesforceTokensShown();
      const shown = await startSalesforceDemo({ deps, dataDir, port, logger: quiet, started });
      await shown.sandbox.close();
      expect(shown.created).toBeUndefined();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it.each([
    ['DEMO=off', { DEMO: 'off' }],
    ['a HubSpot URL', { HUBSPOT_API_BASE_URL: 'http://127.0.0.1:3001' }],
    ['Postgres', { DATABASE_URL: 'postgres://localhost/ag', SECRETS_KEY: Buffer.alloc(32).toString('base64') }],
  ])('stays off with %s, so a configured CRM never meets the sandbox', async (_name, env) => {
    expect(await wantsDemo(loadConfig(env), testDeps(database.db))).toBe(false);
  });

  it('stays off once a real HubSpot account is connected, even with nothing else configured', async () => {
    await createWorkspace(
      testDeps(database.db),
      { name: 'Acme', hubspotPortalId: '12345', hubspotToken: 'pat-na1-real' },
      ADMIN,
    );
    expect(await wantsDemo(loadConfig({}), testDeps(database.db))).toBe(false);
  });
});

describe('the scripted enrichment batch', () => {
  it('is a valid change set that moves to new contacts each time', () => {
    const first = changeSetRequestSchema.parse(enrichmentBatch(0));
    const second = changeSetRequestSchema.parse(enrichmentBatch(1));
    expect(first.batchId).not.toBe(second.batchId);
    expect(
      new Set(
        [...first.changes, ...second.changes].map((change) => ('recordId' in change ? change.recordId : undefined)),
      ).size,
    ).toBe(first.changes.length + second.changes.length);
  });

  it('summarises a change set as applied, held and refused, naming what moved each value', () => {
    const changeSet: ChangeSetResponse = {
      id: 'cs-1',
      batchId: 'b-1',
      objectType: 'contacts',
      agentId: 'a-1',
      policyVersion: 1,
      status: 'completed',
      createdAt: new Date(0).toISOString(),
      summary: { applied: 1, pending_approval: 1, denied: 1, failed: 0, applying: 0 },
      results: [
        {
          changeId: 'c1',
          recordId: '1',
          property: 'jobtitle',
          decision: 'applied',
          tier: 'auto',
          reasons: ['tier_auto'],
          before: '',
          proposed: 'CTO',
        },
        {
          changeId: 'c2',
          recordId: '1',
          property: 'phone',
          decision: 'pending_approval',
          tier: 'approval',
          reasons: ['tier_approval'],
          before: '',
          proposed: '+1',
        },
        {
          changeId: 'c3',
          recordId: '1',
          property: 'firstname',
          decision: 'denied',
          tier: 'deny',
          reasons: ['field_not_allowed'],
          before: 'A',
          proposed: 'B',
        },
      ],
    };
    const lines = describeOutcome(changeSet);
    expect(lines.join('\n')).toMatch(/applied now, with provenance on the record: 1\n/);
    expect(lines.join('\n')).toContain("held for a person's approval:              1 (tier_approval)");
    expect(lines.join('\n')).toContain('refused:                                    1 (field_not_allowed)');
  });
});
