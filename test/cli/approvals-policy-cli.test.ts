import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { createWorkspace } from '../../server/src/services/governance/index.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { cliOver } from '../support/cli.ts';
import { ADMIN, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

// Issue 18, point 11: approvals from a terminal, and a policy apply that says what it did.
let harness: Harness;
let folder: string;

beforeAll(async () => {
  harness = await startHarness();
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-policy-cli-'));
});
afterAll(async () => {
  await harness.close();
  fs.rmSync(folder, { recursive: true, force: true });
});

describe('approvals list and approvals decide', () => {
  let ws: Awaited<ReturnType<typeof seedWorkspace>>;
  const held: { approvalId: string; recordId: string }[] = [];

  beforeAll(async () => {
    ws = await seedWorkspace(harness);
    await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
    await givePeopleRoles(harness, ws.workspaceId, { '9001': 'approver' });
    for (const phone of ['+1 555 0101', '+1 555 0102']) {
      const recordId = seedContact(harness);
      held.push({
        recordId,
        approvalId: await proposeHeld(harness, {
          token: ws.agents[0]!.token,
          adminToken: ws.adminToken,
          recordId,
          properties: { phone },
        }),
      });
    }
  });

  it('lists the pending approvals of a batch as the admin API does', async () => {
    const listed = await cliOver(
      harness,
      'approvals',
      'list',
      '--workspace',
      ws.workspaceId,
      '--status',
      'pending',
      '--batch',
      'enrich-1',
      '--json',
    );
    expect(listed.code).toBe(0);
    expect(listed.json.approvals.map((approval: { id: string }) => approval.id).sort()).toEqual(
      held.map((h) => h.approvalId).sort(),
    );
    expect(listed.json.approvals[0]).toMatchObject({
      kind: 'field_change',
      status: 'pending',
      items: [expect.objectContaining({ property: 'phone' })],
    });
    const human = await cliOver(
      harness,
      'approvals',
      'list',
      '--workspace',
      ws.workspaceId,
      '--record',
      held[0]!.recordId,
    );
    expect(human.stdout).toContain(`${held[0]!.approvalId}  pending`);
    expect(human.stdout).toContain('phone: null → "+1 555 0101"');
    expect(
      (await cliOver(harness, 'approvals', 'list', '--workspace', ws.workspaceId, '--status', 'maybe', '--json')).json
        .error.code,
    ).toBe('VALIDATION_FAILED');
  });

  it('approves as a CRM user, and the value lands in HubSpot; a rejection needs a reason', async () => {
    const [first, second] = held;
    const noReason = await cliOver(
      harness,
      'approvals',
      'decide',
      '--workspace',
      ws.workspaceId,
      '--approval',
      second!.approvalId,
      '--acting-user',
      '9001',
      '--reject',
      '--json',
    );
    expect(noReason.json.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('--reason'),
    });
    const both = await cliOver(
      harness,
      'approvals',
      'decide',
      '--workspace',
      ws.workspaceId,
      '--approval',
      second!.approvalId,
      '--acting-user',
      '9001',
      '--approve',
      '--reject',
      '--json',
    );
    expect(both.json.error.message).toContain('exactly one of --approve or --reject');

    const approved = await cliOver(
      harness,
      'approvals',
      'decide',
      '--workspace',
      ws.workspaceId,
      '--approval',
      first!.approvalId,
      '--acting-user',
      '9001',
      '--approve',
      '--json',
    );
    expect(approved).toMatchObject({
      code: 0,
      json: {
        results: [{ approvalId: first!.approvalId, kind: 'field_change', status: 'applied' }],
        summary: { decided: 1, refused: 0, applied: 1 },
      },
    });
    expect(recordValues(harness.hubspot.state, 'contacts', first!.recordId)?.phone).toBe('+1 555 0101');

    const rejected = await cliOver(
      harness,
      'approvals',
      'decide',
      '--workspace',
      ws.workspaceId,
      '--approval',
      second!.approvalId,
      '--approval',
      first!.approvalId,
      '--acting-user',
      '9001',
      '--reject',
      '--reason',
      'Wrong number',
    );
    // The first was decided already: refused, so the command exits 1 and says so.
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toContain(`${second!.approvalId}  rejected`);
    expect(rejected.stdout).toContain('1 decided (0 applied), 1 refused.');
  });
});

describe('policy apply', () => {
  const write = (name: string, policy: unknown) => {
    const file = path.join(folder, name);
    fs.writeFileSync(file, JSON.stringify(policy));
    return file;
  };
  const published = async (workspaceId: string) =>
    (
      await harness.database.db
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.workspaceId, workspaceId), eq(auditEvents.type, 'policy.published')))
    ).length;

  it('says bootstrap is needed for a workspace never bootstrapped, and for newly held properties; --bootstrap runs it', async () => {
    const { id } = await createWorkspace(
      harness.deps,
      { name: 'Policy', hubspotPortalId: '880001', hubspotToken: harness.hubspot.accessToken },
      ADMIN,
    );
    const first = await cliOver(
      harness,
      'policy',
      'apply',
      '--workspace',
      id,
      write('example.json', EXAMPLE_POLICY),
      '--json',
    );
    expect(first.json).toMatchObject({
      version: 1,
      bootstrapNeeded: true,
      newlyHeld: { contacts: expect.arrayContaining(['phone', 'jobtitle']) },
    });
    expect(first.json.unchanged).toBeUndefined();
    expect((await cliOver(harness, 'bootstrap', '--workspace', id, '--json')).code).toBe(0);

    const withFirstname = structuredClone(EXAMPLE_POLICY) as {
      objects: { contacts: { properties: Record<string, unknown> } };
    };
    withFirstname.objects.contacts.properties.firstname = { enrichment: 'approval' };
    const file = write('firstname.json', withFirstname);
    const told = await cliOver(harness, 'policy', 'apply', '--workspace', id, file);
    expect(told.code).toBe(0);
    expect(told.stdout).toContain('Policy version 2 published.');
    expect(told.stdout).toContain(
      `no proposed-value (ag_proposed_*) property yet (contacts: firstname): run bootstrap --workspace ${id}`,
    );

    const withIndustry = structuredClone(withFirstname);
    withIndustry.objects.contacts.properties.industry = { enrichment: 'approval' };
    const ran = await cliOver(
      harness,
      'policy',
      'apply',
      '--workspace',
      id,
      write('industry.json', withIndustry),
      '--bootstrap',
      '--json',
    );
    expect(ran.json).toMatchObject({
      version: 3,
      newlyHeld: {},
      bootstrapNeeded: false,
      bootstrap: { objects: expect.any(Array) },
    });
    // industry was held already (auto can be raised to approval by a condition): it has its shadow; firstname gets its own now.
    expect(ran.json.bootstrap.objects.find((o: { objectType: string }) => o.objectType === 'contacts').created).toEqual(
      ['ag_proposed_firstname'],
    );
  });

  it('publishes a file naming a property the portal lacks and names it, as a warning, each time the file is applied', async () => {
    const ws = await seedWorkspace(harness);
    const typo = structuredClone(EXAMPLE_POLICY) as { objects: { contacts: { properties: Record<string, unknown> } } };
    typo.objects.contacts.properties.jobtitel = { enrichment: 'auto' };
    const file = write('typo.json', typo);
    const human = await cliOver(harness, 'policy', 'apply', '--workspace', ws.workspaceId, file);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Policy version ${ws.policyVersion + 1} published.`);
    expect(human.stdout).toContain('Warning (unknown_property): contacts has no property jobtitel in the CRM');
    const again = await cliOver(harness, 'policy', 'apply', '--workspace', ws.workspaceId, file, '--json');
    expect(again.json).toMatchObject({
      version: ws.policyVersion + 1,
      unchanged: true,
      warnings: [{ code: 'unknown_property', objectType: 'contacts', property: 'jobtitel' }],
    });
  });

  it('re-applying the policy in force says so and publishes nothing', async () => {
    const ws = await seedWorkspace(harness);
    const before = await published(ws.workspaceId);
    const again = await cliOver(
      harness,
      'policy',
      'apply',
      '--workspace',
      ws.workspaceId,
      write('same.json', EXAMPLE_POLICY),
      '--json',
    );
    expect(again.json).toMatchObject({ version: ws.policyVersion, unchanged: true, newlyHeld: {} });
    expect(await published(ws.workspaceId)).toBe(before);
    const human = await cliOver(
      harness,
      'policy',
      'apply',
      '--workspace',
      ws.workspaceId,
      write('same.json', EXAMPLE_POLICY),
    );
    expect(human.stdout).toContain(
      `Policy unchanged: version ${ws.policyVersion}, identical to this file, stays in force; nothing was published.`,
    );
  });
});
