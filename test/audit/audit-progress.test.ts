import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor, ServiceDeps } from '../../server/src/services/common/index.ts';
import { withAuditChain } from '../../server/src/services/common/index.ts';
import { createWorkspace, exportAudit, verifyAudit } from '../../server/src/services/governance/index.ts';
import { createTestDatabase } from '../support/database.ts';
import { testDeps } from '../support/deps.ts';

// Issue 23: verify and export of a large log report how far they are, so the CLI can show a bar.
const admin: Actor = { type: 'admin', via: 'cli', name: 'tester' };
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let deps: ServiceDeps;
let workspaceId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  deps = testDeps(database.db);
  workspaceId = (
    await createWorkspace(deps, { name: 'Progress', hubspotPortalId: '881', hubspotToken: 'pat-8' }, admin)
  ).id;
  await withAuditChain(deps.db, workspaceId, deps.clock, async (_tx, audit) => {
    for (let i = 0; i < 2_499; i++)
      audit.append({ type: 'change.decided', actor: { type: 'system' }, batchId: i % 2 ? 'odd' : 'even' });
  });
});
afterAll(() => database.close());

describe('progress of audit verify and export', () => {
  it('verify reports the seq reached every 1,000 events, against the head', async () => {
    const reports: [number, number][] = [];
    const result = await verifyAudit(deps, workspaceId, undefined, (seq, head) => reports.push([seq, head]));
    expect(result).toEqual({ ok: true, events: 2_500 });
    expect(reports).toEqual([
      [1_000, 2_500],
      [2_000, 2_500],
    ]);
  });

  it('export reports every 1,000 events it wrote, a filtered one by the seq it reached', async () => {
    const reports: [number, number][] = [];
    let lines = 0;
    for await (const _line of exportAudit(deps, workspaceId, { batchId: 'odd' }, 'ndjson', (seq, head) =>
      reports.push([seq, head]),
    ))
      lines += 1;
    expect(lines).toBe(1_249);
    // The odd batch holds every other event from seq 3 on, so its 1,000th is seq 2,001.
    expect(reports).toEqual([[2_001, 2_500]]);
  });
});
