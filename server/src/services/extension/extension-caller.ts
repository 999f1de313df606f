import type { Caller } from '../../../../shared/extension-api.ts';
import type { SignedRequest } from '../../crm/port.ts';
import { permissionsFor } from '../../domain/extension-access.ts';
import { AppError } from '../../errors.ts';
import { findWorkspaceByPortal, type WorkspaceRow } from '../../store/workspace-store.ts';
import type { Actor, ServiceDeps } from '../common/index.ts';
import { resolvePerson, type ResolvedPerson } from '../governance/index.ts';

export interface ExtensionCaller {
  workspace: WorkspaceRow;
  caller: Caller;
  /** The person as resolved from their own role or their HubSpot teams; decisions use this, not a second lookup. */
  person: ResolvedPerson;
  /** Where the person acts from, as their audit events say; the HubSpot app unless set. */
  via?: 'console';
}

/** Why a request from the HubSpot app is refused: data in `details.reason`, beside the HTTP code. */
export type ExtensionRefusal =
  | 'signature_missing'
  | 'signature_invalid'
  | 'timestamp_stale'
  | 'portal_unknown'
  | 'user_missing'
  | 'identity_repeated'
  | 'person_unknown';

const SIGNATURE_REFUSALS = {
  WEBHOOK_SIGNATURE_MISSING: 'signature_missing',
  WEBHOOK_SIGNATURE_INVALID: 'signature_invalid',
  WEBHOOK_TIMESTAMP_STALE: 'timestamp_stale',
} as const satisfies Record<string, ExtensionRefusal>;

/** What HubSpot's signed query string says of who is asking. */
const IDENTITY_PARAMETERS = ['portalId', 'userId'] as const;

function refuse(code: 'UNAUTHENTICATED' | 'FORBIDDEN', reason: ExtensionRefusal, message: string): AppError {
  return new AppError(code, message, { details: { reason } });
}

/**
 * A request `hubspot.fetch` proxied for the HubSpot app: HubSpot signs method, full URI (with the
 * portalId, userId, userEmail and appId it appends), body and timestamp with the app's client
 * secret. Which secret depends on the portal, so portalId is read before the signature is
 * checked, to pick the key, and trusted only after. The person then needs a role: their own in
 * `people`, else one of the HubSpot teams HubSpot says they are in (see resolvePerson).
 */
export async function authenticateExtensionRequest(
  deps: ServiceDeps,
  request: SignedRequest,
  options: { appClientSecret?: string | undefined },
): Promise<ExtensionCaller> {
  const query = new URL(request.url).searchParams;
  // HubSpot appends these after the query the app asked for and signs the whole: one named twice
  // means the asked-for URL named someone too, and the first would be the caller's own word.
  if (IDENTITY_PARAMETERS.some((name) => query.getAll(name).length > 1))
    throw refuse(
      'UNAUTHENTICATED',
      'identity_repeated',
      `The request names ${IDENTITY_PARAMETERS.join(' or ')} more than once; only HubSpot names who is asking.`,
    );
  const claimedPortal = query.get('portalId');
  const workspace =
    claimedPortal && /^[0-9]{1,18}$/.test(claimedPortal)
      ? await findWorkspaceByPortal(deps.db, claimedPortal)
      : undefined;
  const secrets = [
    ...(options.appClientSecret ? [options.appClientSecret] : []),
    ...(workspace?.hubspotClientSecretEnc ? [deps.secrets.open(workspace.hubspotClientSecretEnc)] : []),
  ];
  const check = deps.checkSignedRequest(request, secrets, deps.clock());
  if (!check.ok) {
    // With no key for this portal a well-formed request cannot match: say why, not just "invalid".
    if (secrets.length === 0 && check.code === 'WEBHOOK_SIGNATURE_INVALID') {
      throw refuse(
        'UNAUTHENTICATED',
        'portal_unknown',
        `HubSpot account ${claimedPortal ?? '(none)'} is not connected to Agent Governance, so its signature cannot be checked.`,
      );
    }
    throw refuse('UNAUTHENTICATED', SIGNATURE_REFUSALS[check.code], check.message);
  }
  if (!workspace) {
    // Signed by the app, but for an account no workspace is connected to.
    throw refuse(
      'FORBIDDEN',
      'portal_unknown',
      `HubSpot account ${claimedPortal ?? '(none)'} is not connected to Agent Governance.`,
    );
  }
  const userId = query.get('userId');
  if (!userId || !/^[0-9]{1,18}$/.test(userId))
    throw refuse('UNAUTHENTICATED', 'user_missing', 'The signed request names no HubSpot user.');
  const person = await resolvePerson(deps, workspace, userId);
  if (!person) {
    throw refuse(
      'FORBIDDEN',
      'person_unknown',
      `HubSpot user ${userId} has no role in Agent Governance, neither their own nor through a HubSpot team; an owner or RevOps admin gives one on the app's settings page (or with "people set").`,
    );
  }
  return {
    workspace,
    person,
    caller: {
      portalId: workspace.hubspotPortalId,
      userId,
      ownerId: person.crmOwnerId,
      permissions: permissionsFor(person.role),
    },
  };
}

/** The person behind a signed request, as the audit log names them. */
export function personActor({ caller, via }: ExtensionCaller): Actor {
  return {
    type: 'person',
    name: `hubspot-user:${caller.userId}`,
    crmUserId: caller.userId,
    role: caller.permissions.role,
    via: via ?? 'hubspot_app',
  };
}
