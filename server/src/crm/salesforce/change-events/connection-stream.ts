import type { CrmChangeBatch } from '../../../../../shared/crm-change-events.ts';
import { APPROVAL_STATUS_PROPERTY } from '../../../../../shared/crm-names.ts';
import { APPROVAL_OBJECT, DEFAULT_CALL_CLIENT } from '../adapter.ts';
import { mintSession, type SalesforceAuth } from '../auth.ts';
import type { OrgAddresses } from '../org-addresses.ts';
import { sfFieldName } from '../names.ts';
import type { ChangeEventStream, ChangeEventStreamConfig } from './subscriber.ts';

/** The sObjects whose change events a workspace follows, and the object types we govern them under. */
const GOVERNED_OBJECTS = {
  Contact: 'salesforce:Contact',
  Lead: 'salesforce:Lead',
  Opportunity: 'salesforce:Opportunity',
} as const;

/**
 * Opens an org's change stream the way the server's follower job needs it (issue 20): each
 * opening signs in afresh through the External Client App (a token endpoint call, which the
 * daily API allocation does not count), so a stream that ended because its token expired starts
 * again with a good one. Our writes are told apart by the client id the adapter sends.
 */
export function changeStreamOfConnection(options: {
  loginUrl: string;
  auth: SalesforceAuth;
  /** Where the org may be reached: the login URL and the instance URL answered (the Pub/Sub endpoint is the operator's setting). */
  addresses: OrgAddresses;
  pubSubEndpoint: string;
  /** Only for the local sandbox's self-signed certificate. */
  insecureTls: boolean;
  /** The workspace's adapter answers what kind of user made a change (its API calls count and stop like any other). */
  userKinds?: ChangeEventStreamConfig['userKinds'];
}): (
  positions: ReadonlyMap<string, string>,
  onBatch: (batch: CrmChangeBatch, topicIndex: number) => Promise<void>,
) => Promise<ChangeEventStream> {
  return async (positions, onBatch) => {
    const session = await mintSession(options.loginUrl, options.auth, new Date(), options.addresses);
    // Loaded on first use: the Pub/Sub client (gRPC, Avro) is heavy, and a server with no org never needs it.
    const { openChangeEventStream } = await import('./subscriber.ts');
    return openChangeEventStream(
      {
        accessToken: session.accessToken,
        // The client insists on https and only passes the URL on as metadata; the local sandbox's REST is plain http.
        instanceUrl: options.insecureTls ? session.instanceUrl.replace(/^http:/, 'https:') : session.instanceUrl,
        organizationId: session.orgId,
        pubSubEndpoint: options.pubSubEndpoint,
        rejectUnauthorizedSsl: !options.insecureTls,
        ourClientId: DEFAULT_CALL_CLIENT,
        objectTypes: GOVERNED_OBJECTS,
        approvalObject: { entity: APPROVAL_OBJECT, statusField: sfFieldName(APPROVAL_STATUS_PROPERTY) },
        ...(options.userKinds ? { userKinds: options.userKinds } : {}),
      },
      positions,
      onBatch,
    );
  };
}
