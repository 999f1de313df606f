import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor, ServiceDeps } from '../../server/src/services/common/index.ts';
import { withAuditChain } from '../../server/src/services/common/index.ts';
import { createWorkspace, verifyAudit } from '../../server/src/services/governance/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { testDeps } from '../support/deps.ts';

// V8's JSON.parse can read an escaped key wrongly once the process has parsed a look-alike key
// (shared/json-text.ts). The audit log stores JSON text and verify parses it again: an event
// stored intact must not read back altered because of what the verifying process parsed before.

const admin: Actor = { type: 'admin', via: 'cli', name: 'tester' };
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let deps: ServiceDeps;

beforeAll(async () => {
  database = await createTestDatabase();
  deps = testDeps(database.db);
});
afterAll(() => database.close());

describe('the audit trail reads back the keys it stored', () => {
  it('verifies events whose keys hold escapes after the process parsed look-alike keys', async () => {
    const workspace = (
      await createWorkspace(deps, { name: 'Escaped keys', hubspotPortalId: '771', hubspotToken: 'pat-7' }, admin)
    ).id;
    await withAuditChain(deps.db, workspace, deps.clock, async (_tx, audit) => {
      // The first event's keys end in a literal backslash; the second's hold an escape at that place.
      audit.append({ type: 'change.decided', actor: { type: 'system' }, evidence: { y: 1, 'q\\': 1, z: { '\\': 0 } } });
      audit.append({ type: 'change.decided', actor: { type: 'system' }, evidence: { y: 1, 'q\n': 1, z: { '"': 0 } } });
    });
    expect(await verifyAudit(deps, workspace)).toEqual({ ok: true, events: 3 });
  });
});
