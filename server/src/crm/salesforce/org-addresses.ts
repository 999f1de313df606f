import {
  type AllowedNetworks,
  literalAddress,
  OUTBOUND_SETTING,
  type RefusedKind,
} from '../../domain/outbound-addresses.ts';
import { AppError } from '../../errors.ts';

/**
 * Where the server may reach a workspace's org (issue 20). The workspace's admin chooses the login
 * URL, and the token endpoint there answers the instance URL every API call then goes to, so
 * without a rule a tenant could aim the server at its own network (the metadata service at
 * 169.254.169.254, localhost, the 10/8 behind it) and learn from the sign-in's error whether
 * something answered, or run a token endpoint that sends the server's API calls there. So both
 * must be on Salesforce's own domains over https, or an address in a network the operator lists
 * in OUTBOUND_ALLOWED_NETWORKS (a proxy or a test org on premises). A host name off those domains
 * is refused whatever it resolves to: jsforce resolves and dials it itself, so what the name
 * pointed at when checked need not be what it is dialled at.
 */

/**
 * Salesforce's own domains, each with every name under it: login.salesforce.com and
 * test.salesforce.com, My Domain URLs (`acme.my.salesforce.com`, `acme--uat.sandbox.my.salesforce.com`,
 * `acme-dev-ed.develop.my.salesforce.com`) and instance hosts (`na1.salesforce.com`), `force.com`
 * (Lightning, Visualforce, older Experience Cloud sites), Experience Cloud sites (`acme.my.site.com`)
 * and Government Cloud Plus – Defense (`acme.my.salesforce.mil`). A custom domain of the customer's
 * is not among them: every org has a My Domain URL to give instead.
 */
export const SALESFORCE_DOMAINS = ['salesforce.com', 'force.com', 'my.site.com', 'salesforce.mil'] as const;

/** What the server may reach besides Salesforce's domains. */
export interface OrgAddresses {
  /** The operator's OUTBOUND_ALLOWED_NETWORKS: an address literal in one of them is reachable. */
  networks: AllowedNetworks;
  /**
   * Origins of a local Salesforce this process started itself (demo mode's, on loopback), reachable
   * though no network lists them: read at each check, so one started later counts.
   */
  localOrigins?: ReadonlySet<string>;
}

/** Why an address is refused: an address literal that is not public, or a host neither Salesforce's nor listed. */
type Refusal = { reason: 'address_not_public'; kind: RefusedKind } | { reason: 'host_not_allowed' };

export function orgAddressRefusal(url: string, addresses: OrgAddresses): Refusal | undefined {
  if (!URL.canParse(url)) return { reason: 'host_not_allowed' };
  const target = new URL(url);
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return { reason: 'host_not_allowed' };
  if (addresses.localOrigins?.has(target.origin)) return undefined;
  const host = target.hostname;
  if (
    target.protocol === 'https:' &&
    SALESFORCE_DOMAINS.some((domain) => host === domain || host.endsWith(`.${domain}`))
  )
    return undefined;
  const literal = literalAddress(host);
  if (literal === undefined) return { reason: 'host_not_allowed' };
  if (addresses.networks.lists(literal)) return undefined;
  const kind = addresses.networks.refusal(literal);
  return kind === undefined ? { reason: 'host_not_allowed' } : { reason: 'address_not_public', kind };
}

const RULE = `must be on Salesforce's own domains over https (https://acme.my.salesforce.com, login.salesforce.com, test.salesforce.com, *.force.com…), or an address in a network this server's operator allows in ${OUTBOUND_SETTING}`;

/**
 * Refuses, when a connection is configured and before anything is sent, a login URL the server
 * may not reach: 422 DESTINATION_NOT_ALLOWED with the SIEM destinations' details (`path` the
 * connection's field, `reason`, `setting`).
 */
export function assertLoginUrlConfigurable(loginUrl: string, addresses: OrgAddresses): void {
  const refusal = orgAddressRefusal(loginUrl, addresses);
  if (!refusal) return;
  const host = URL.canParse(loginUrl) ? new URL(loginUrl).host : loginUrl;
  const what =
    refusal.reason === 'address_not_public' ? `${host}, which is not a public address (${refusal.kind})` : host;
  throw new AppError('DESTINATION_NOT_ALLOWED', `The login URL names ${what}: it ${RULE}. Nothing was sent to it.`, {
    details: { path: 'loginUrl', reason: refusal.reason, setting: OUTBOUND_SETTING },
  });
}

/**
 * The refusal of a stored connection whose login URL the server may no longer reach (the operator
 * changed OUTBOUND_ALLOWED_NETWORKS since it was saved): a refused connection like a revoked app,
 * reported once and never tried again until the connection changes. Undefined when it may be reached.
 */
export function loginUrlRefusal(loginUrl: string, addresses: OrgAddresses): AppError | undefined {
  if (!orgAddressRefusal(loginUrl, addresses)) return undefined;
  return new AppError(
    'CRM_AUTH_FAILED',
    `The org's login URL is not one this server may reach: it ${RULE}. Nothing was sent; give the org's My Domain URL with workspace update.`,
    { details: { revoked: true, oauthError: 'login_url_not_allowed' } },
  );
}

/**
 * The refusal of an instance URL a token endpoint answered off Salesforce's domains and the
 * allowed networks: the sign-in fails, and no call is sent there.
 */
export function instanceUrlRefusal(instanceUrl: string, addresses: OrgAddresses): AppError | undefined {
  if (!orgAddressRefusal(instanceUrl, addresses)) return undefined;
  return new AppError(
    'CRM_AUTH_FAILED',
    `The token endpoint answered an instance URL this server may not reach: it ${RULE}. The sign-in fails, and nothing was sent to that address.`,
    { details: { revoked: true, oauthError: 'instance_url_not_allowed' } },
  );
}
