/**
 * A server's change-stream follower on its own (issue 20), for the kill -9 test: opens the PGlite
 * data folder, connects a workspace the first time, then follows the org's change stream through
 * the real Pub/Sub client, printing how many events are stored after each one.
 * Arguments: data folder, Pub/Sub endpoint, access token, org id.
 */
import { openChangeEventStream } from '../../../server/src/crm/salesforce/change-events/index.ts';
import { createWorkspace } from '../../../server/src/services/governance/index.ts';
import { followChangeStream } from '../../../server/src/services/webhooks/index.ts';
import { openDatabase } from '../../../server/src/store/database.ts';
import { listWorkspaces } from '../../../server/src/store/workspace-store.ts';
import { testDeps } from '../../support/deps.ts';
import { ADMIN } from '../../support/harness.ts';
import { storedEventCount } from '../../support/webhooks.ts';

const [dataDir, endpoint, accessToken, organizationId] = process.argv.slice(2);
if (!dataDir || !endpoint || !accessToken || !organizationId) throw new Error('usage: data-dir endpoint token org-id');
const holder = `follower-${process.pid}`;
const database = await openDatabase({ dataDir, holder });
await database.migrate();
const deps = testDeps(database.db);
const workspaceId =
  (await listWorkspaces(deps.db))[0]?.id ??
  (
    await createWorkspace(
      deps,
      { name: 'Org', hubspotPortalId: organizationId, hubspotToken: 'unused', verifyToken: false },
      ADMIN,
    )
  ).id;
console.log('following');
for (;;) {
  const end = await followChangeStream(deps, {
    workspaceId,
    // The workspace stands for the org by naming its id as its portal.
    connection: { crm: 'hubspot', accountId: organizationId },
    holder,
    leaseMs: 2_000,
    open: (positions, onBatch) =>
      openChangeEventStream(
        {
          accessToken,
          instanceUrl: 'https://sandbox.my.salesforce.com',
          organizationId,
          pubSubEndpoint: endpoint,
          rejectUnauthorizedSsl: false,
          ourClientId: 'agent-governance',
          objectTypes: { Contact: 'contacts' },
          approvalObject: { entity: 'Agent_Approval__c', statusField: 'Status__c' },
        },
        positions,
        onBatch,
      ),
    onStored: () => void storedEventCount(deps.db, workspaceId).then((n) => console.log(`stored total=${n}`)),
  });
  // The killed follower's lease runs out within its two seconds; then this one takes the stream.
  if (end === 'held_elsewhere') await new Promise((resolve) => setTimeout(resolve, 250));
}
