import { eq } from 'drizzle-orm';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { rollbacks } from '../../server/src/store/schema.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { claimAndRunRollback, type RunResult } from '../../server/src/services/rollbacks/index.ts';
import { api, type Harness } from './harness.ts';

export const EVIDENCE = {
  source: 'clearbit',
  url: 'https://example.com/p/1',
  confidence: 0.95,
  reason: 'Company site lists a new title',
};

/** Contacts in the fake HubSpot with a job title each; returns their ids. */
export function seedContacts(harness: Harness, titles: readonly string[]): string[] {
  return titles.map((jobtitle, i) =>
    seedRecord(harness.hubspot.state, 'contacts', { properties: { email: `p${i}@example.com`, jobtitle } }),
  );
}

/** An enrichment batch through the public API, one job title per record. */
export async function submitTitles(harness: Harness, token: string, batchId: string, titles: Record<string, string>) {
  const res = await api(harness, 'POST', '/v1/changesets', {
    token,
    body: {
      batchId,
      objectType: 'contacts',
      changes: Object.entries(titles).map(([recordId, jobtitle]) => ({
        recordId,
        properties: { jobtitle },
        evidence: EVIDENCE,
      })),
    },
  });
  if (res.status !== 201) throw new Error(`submission failed: ${JSON.stringify(res.body)}`);
  return res.body as {
    id: string;
    results: { changeId: string; recordId: string; property: string; decision: string }[];
  };
}

/** Runs the rollback job in this process until the rollback completes or pauses, as the server's worker would. */
export async function runRollback(harness: Harness, id: string, deps: ServiceDeps = harness.deps): Promise<RunResult> {
  const [row] = await harness.deps.db
    .select({ workspaceId: rollbacks.workspaceId })
    .from(rollbacks)
    .where(eq(rollbacks.id, id));
  for (;;) {
    const result = await claimAndRunRollback(deps, {
      holder: 'test-worker',
      leaseMs: 60_000,
      only: { workspaceId: row!.workspaceId, id },
    });
    if (result !== 'lost') return result;
  }
}
