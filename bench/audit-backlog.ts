/**
 * A workspace whose audit chain holds `backlog` events shaped like decided changes (the bulk of a real
 * chain), appended through the real chain code in transactions of 10,000, in this process; for the
 * benchmarks that read a large log (audit verify and export, SIEM streaming).
 */
import { loadConfig } from '../server/src/config.ts';
import { openRuntime } from '../server/src/runtime.ts';
import { withAuditChain } from '../server/src/services/common/index.ts';
import { createWorkspace } from '../server/src/services/governance/index.ts';

const EVENTS_PER_TRANSACTION = 10_000;

export async function seedAuditBacklog(
  env: Record<string, string>,
  backlog: number,
  holder: string,
): Promise<{ workspaceId: string; adminToken: string; seconds: number }> {
  const runtime = await openRuntime(loadConfig(env), holder);
  try {
    const actor = { type: 'system', name: 'bench' } as const;
    const workspace = await createWorkspace(
      runtime.deps,
      { name: 'Bench audit log', hubspotPortalId: '900', hubspotToken: 'unused', verifyToken: false },
      actor,
    );
    const started = performance.now();
    for (let done = 0; done < backlog; done += EVENTS_PER_TRANSACTION) {
      const count = Math.min(EVENTS_PER_TRANSACTION, backlog - done);
      await withAuditChain(runtime.deps.db, workspace.id, runtime.deps.clock, (_tx, audit) =>
        audit.appendAll(
          (function* () {
            // The shape of a decided change: the bulk of a real chain.
            for (let i = 0; i < count; i++)
              yield {
                type: 'change.decided',
                actor: {
                  type: 'agent',
                  agentId: '00000000-0000-4000-8000-000000000001',
                  name: 'enricher',
                  role: 'enrichment',
                },
                agentId: '00000000-0000-4000-8000-000000000001',
                batchId: `batch-${Math.floor((done + i) / 1_000)}`,
                objectType: 'contacts',
                recordId: String(100_000 + done + i),
                property: 'jobtitle',
                before: { value: 'Engineer' },
                after: { value: 'Senior Engineer', tier: 'auto', decision: 'applied' },
                reasons: ['tier_auto'],
                policyVersion: 1,
              };
          })(),
        ),
      );
    }
    return {
      workspaceId: workspace.id,
      adminToken: workspace.adminToken,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await runtime.close();
  }
}
