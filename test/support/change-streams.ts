import {
  type ChangeStreamFollowers,
  startChangeStreamFollowers,
} from '../../server/src/jobs/change-stream-followers.ts';
import { silentLogger } from '../../server/src/logger.ts';
import { salesforceChangeStreams } from '../../server/src/runtime.ts';
import type { ServiceDeps } from '../../server/src/services/common/index.ts';
import { LOOPBACK_ORG_ADDRESSES } from './outbound.ts';

/**
 * A server's change-stream followers job, as the server runs it, on the local Salesforce's Pub/Sub
 * endpoint (its self-signed certificate accepted), with a short lease and poll so tests see a
 * stream taken up, handed over or stopped within a second or so.
 */
export function followSandboxChangeStreams(
  deps: ServiceDeps,
  pubSubEndpoint: string,
  holder = 'server-a',
): ChangeStreamFollowers {
  return startChangeStreamFollowers(deps, {
    logger: silentLogger,
    holder,
    leaseMs: 3_000,
    pollMs: 50,
    openFor: salesforceChangeStreams({
      secrets: deps.secrets,
      crmFor: deps.crmFor,
      addresses: LOOPBACK_ORG_ADDRESSES,
      pubSubEndpoint,
      insecureTls: true,
    }),
  });
}
