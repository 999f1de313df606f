import { randomBytes } from 'node:crypto';
import { checkV3Signature } from '../../server/src/crm/hubspot/webhook-signature.ts';
import type { CrmPort } from '../../server/src/crm/port.ts';
import { createSecretBox } from '../../server/src/secrets.ts';
import { outboundTo, type ServiceDeps } from '../../server/src/services/common/index.ts';
import type { Db } from '../../server/src/store/database.ts';

/** Real services over a real database; only the CRM is chosen by the test (an adapter pointed at the fake). */
export function testDeps(db: Db, options: { crmFor?: ServiceDeps['crmFor']; clock?: () => Date } = {}): ServiceDeps {
  return {
    db,
    clock: options.clock ?? (() => new Date()),
    secrets: createSecretBox(randomBytes(32)),
    crmFor:
      options.crmFor ??
      ((): CrmPort => {
        throw new Error('this test does not talk to a CRM');
      }),
    checkSignedRequest: checkV3Signature,
    // As a server configured by default: deliveries to public addresses only.
    outbound: outboundTo([]),
  };
}
