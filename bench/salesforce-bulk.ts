/**
 * Issue 20: where one Bulk API 2.0 job beats sObject Collections calls. One write of N contacts
 * through the adapter against the local Salesforce answering every call after 100 ms: Collections
 * calls one after another, five at once (the adapter's default), and one Bulk job; the median of
 * three runs each, and the calls each made. `npm run bench -- --only salesforce-bulk`.
 */
import { createSalesforceCrm, type SalesforceCrmOptions } from '../server/src/crm/salesforce/adapter.ts';
import { createSalesforceSandboxServer } from '../server/src/sandbox/salesforce/http-server.ts';
import { addClient, createRecord, createSalesforceSandboxState } from '../server/src/sandbox/salesforce/state.ts';
import { type BenchTable, printTables } from './report.ts';
import { AllowedNetworks } from '../server/src/domain/outbound-addresses.ts';

const LATENCY_MS = 100;
const SIZES = [200, 400, 600, 800, 1_000, 1_200, 1_600, 2_000];
const RUNS = 3;

export async function benchSalesforceBulk(): Promise<BenchTable[]> {
  const state = createSalesforceSandboxState({ apiLimit: 10_000_000 });
  addClient(state, { clientId: 'eca', clientSecret: 'secret' });
  const ids = Array.from({ length: Math.max(...SIZES) }, (_, i) =>
    createRecord(state, 'Contact', { LastName: `Person ${i}` }, { userId: '', origin: '' }),
  );
  const sandbox = createSalesforceSandboxServer(state);
  const url = await sandbox.listen(0);
  const paths: [string, Partial<SalesforceCrmOptions>][] = [
    ['Collections, one at a time', { bulkThreshold: Number.POSITIVE_INFINITY, collectionsConcurrency: 1 }],
    ['Collections, 5 at once', { bulkThreshold: Number.POSITIVE_INFINITY, collectionsConcurrency: 5 }],
    ['one Bulk job', { bulkThreshold: 1 }],
  ];
  const rows: Record<string, string | number>[] = [];
  try {
    for (const size of SIZES) {
      const row: Record<string, string | number> = { records: size };
      for (const [name, options] of paths) {
        const crm = createSalesforceCrm({
          loginUrl: url,
          auth: { kind: 'client_credentials', clientId: 'eca', clientSecret: 'secret' },
          bulkPollIntervalMs: LATENCY_MS,
          ...options,
          // The local Salesforce this benchmark started, on loopback.
          addresses: { networks: new AllowedNetworks([]), localOrigins: new Set([new URL(url).origin]) },
        });
        await crm.describeProperties('salesforce:Contact'); // signs in and caches describe, outside the timing
        state.faults.latencyMs = LATENCY_MS;
        const times: number[] = [];
        for (let run = 0; run < RUNS; run++) {
          state.calls.length = 0;
          const started = performance.now();
          await crm.writeBatch({
            objectType: 'salesforce:Contact',
            writes: ids.slice(0, size).map((recordId) => ({ recordId, properties: { Title: `Run ${run}` } })),
          });
          times.push(performance.now() - started);
        }
        state.faults.latencyMs = 0;
        times.sort((a, b) => a - b);
        row[`${name}: ms`] = Math.round(times[Math.floor(RUNS / 2)]!);
        row[`${name}: calls`] = state.calls.length;
      }
      rows.push(row);
    }
  } finally {
    await sandbox.close();
  }
  return [
    {
      title: `One write of N contacts against the local Salesforce at ${LATENCY_MS} ms per answer (median of ${RUNS}):`,
      rows,
    },
  ];
}

if (import.meta.main) printTables(await benchSalesforceBulk());
