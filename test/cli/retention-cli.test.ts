import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAuditChain } from '../../server/src/services/common/index.ts';
import { verifyAudit } from '../../server/src/services/governance/index.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';
import { cliOver } from '../support/cli.ts';

// Issue 21, point 11: retention periods and erasure, from the CLI and the admin API.
let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());

describe('retention from the CLI and the admin API', () => {
  it('sets periods (the rest kept), shows them, and the API reads the same', async () => {
    const { workspaceId, adminToken } = await seedWorkspace(harness);
    const set = await cliOver(harness, 'retention', 'set', '--workspace', workspaceId, '--drafts-days', '90', '--json');
    expect(set.code).toBe(0);
    expect(set.json.periods).toEqual({
      changeRecordsDays: null,
      draftsDays: 90,
      webhookPayloadsDays: null,
      auditPersonalDataDays: null,
    });
    await cliOver(harness, 'retention', 'set', '--workspace', workspaceId, '--audit-personal-data-days', '365');
    const shown = await cliOver(harness, 'retention', 'show', '--workspace', workspaceId);
    expect(shown.stdout).toMatch(/drafts\s+90 days/);
    expect(shown.stdout).toMatch(/audit personal data\s+365 days/);
    expect(shown.stdout).toMatch(/change records\s+kept for ever/);

    const refused = await cliOver(harness, 'retention', 'set', '--workspace', workspaceId, '--drafts-days', '0');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--drafts-days');

    const read = await api(harness, 'GET', '/v1/admin/retention', { token: adminToken });
    expect(read.body.periods).toMatchObject({ draftsDays: 90, auditPersonalDataDays: 365 });
    const put = await api(harness, 'PUT', '/v1/admin/retention', {
      token: adminToken,
      body: { changeRecordsDays: 30, draftsDays: null, webhookPayloadsDays: 7, auditPersonalDataDays: 365 },
    });
    expect(put.status).toBe(200);
    expect(put.body.periods.webhookPayloadsDays).toBe(7);
  });

  it('erases one person by the API and by the CLI; a request naming no one is refused', async () => {
    const { workspaceId, adminToken } = await seedWorkspace(harness);
    await withAuditChain(harness.deps.db, workspaceId, harness.deps.clock, async (_tx, audit) => {
      for (const recordId of ['1', '2'])
        audit.append({
          type: 'change.applied',
          actor: { type: 'agent', name: 'enricher' },
          objectType: 'contacts',
          recordId,
          after: { email: `person${recordId}@example.com` },
        });
    });
    const none = await api(harness, 'POST', '/v1/admin/erasures', { token: adminToken, body: {} });
    expect([none.status, none.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);

    const byApi = await api(harness, 'POST', '/v1/admin/erasures', {
      token: adminToken,
      body: { email: 'Person1@example.com' },
    });
    expect(byApi.body).toMatchObject({ erased: { auditPersonalData: 1 } });
    const byCli = await cliOver(
      harness,
      'erase',
      '--workspace',
      workspaceId,
      '--object-type',
      'contacts',
      '--record',
      '2',
    );
    expect(byCli.code).toBe(0);
    expect(byCli.stdout).toContain('personal values of 1 audit events');
    expect(await verifyAudit(harness.deps, workspaceId)).toMatchObject({ ok: true });
  });
});
