import type { OrgAddresses } from '../../server/src/crm/salesforce/org-addresses.ts';
import { AllowedNetworks, type Network, parseNetwork } from '../../server/src/domain/outbound-addresses.ts';
import { type Outbound, outboundTo } from '../../server/src/services/common/index.ts';

/**
 * OUTBOUND_ALLOWED_NETWORKS for servers whose SIEM and alert deliveries go to the suite's receivers,
 * which listen on loopback: a server sends there only where its operator allows it.
 */
export const LOOPBACK_NETWORKS = ['127.0.0.0/8', '::1/128'] as const;

/** The same, as a server process's environment. */
export const LOOPBACK_ALLOWED = { OUTBOUND_ALLOWED_NETWORKS: LOOPBACK_NETWORKS.join(',') };

/**
 * Deliveries as a server whose OUTBOUND_ALLOWED_NETWORKS lists these networks makes them, through
 * the egress proxy at `proxy` when given (its OUTBOUND_PROXY).
 */
export function outboundAllowing(networks: readonly string[], proxy?: string): Outbound {
  return outboundTo(parsed(networks), proxy === undefined ? undefined : new URL(proxy));
}

/**
 * Where a server whose OUTBOUND_ALLOWED_NETWORKS lists these networks reaches workspaces' orgs
 * besides Salesforce's domains: the local Salesforce the suite starts listens on loopback.
 */
export function orgAddressesAllowing(networks: readonly string[]): OrgAddresses {
  return { networks: new AllowedNetworks(parsed(networks)) };
}

/** A server that allows loopback reaches the suite's local Salesforce. */
export const LOOPBACK_ORG_ADDRESSES = orgAddressesAllowing(LOOPBACK_NETWORKS);

function parsed(networks: readonly string[]): Network[] {
  return networks.map((network) => {
    const one = parseNetwork(network);
    if (!one) throw new Error(`not a network: ${network}`);
    return one;
  });
}
