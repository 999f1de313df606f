import type { SiemDestinationView } from '../../shared/siem-api.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { deliverToDueSiemDestination } from '../../server/src/services/siem/index.ts';
import { api, type Harness } from './harness.ts';

/** Runs SIEM delivery as the job would, round after round, until nothing is due. */
export async function deliverAllSiem(deps: ServiceDeps, holder = 'server-a'): Promise<void> {
  const delivery = { holder, leaseMs: 30_000, requestTimeoutMs: 5_000, retryMaxMs: 60_000, eventsPerRequest: 7 };
  while ((await deliverToDueSiemDestination(deps, delivery)).claimed);
}

/** The workspace's SIEM destinations, as its admin reads them over the API. */
export async function listSiemDestinations(harness: Harness, adminToken: string): Promise<SiemDestinationView[]> {
  return (await api(harness, 'GET', '/v1/admin/siem-destinations', { token: adminToken })).body.destinations;
}
