import net from 'node:net';

/**
 * Which addresses the server may send a workspace's deliveries to (SIEM destinations, alert
 * channels): public ones, and those in networks the operator allowed (OUTBOUND_ALLOWED_NETWORKS).
 * A workspace's admin names the URL or SMTP host, so on a server shared by several customers one
 * of them could otherwise aim the server at its own network: the cloud's metadata service, a
 * database on localhost, the 10/8 behind it.
 */

/** The operator's setting, named in every refusal so a person knows what would change it. */
export const OUTBOUND_SETTING = 'OUTBOUND_ALLOWED_NETWORKS';

export interface Network {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** What kind of address a refused one is, as a person reads it. */
export type RefusedKind =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared (carrier-grade NAT)'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

const REFUSED_IPV4 = refusedRanges('ipv4', [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  // 240/4 holds the broadcast address 255.255.255.255.
  ['240.0.0.0', 4, 'reserved'],
]);

/**
 * IPv6 outside the global unicast block 2000::/3 is refused whole (::1, ::, fc00::/7, fe80::/10,
 * ff00::/8, the IPv4-compatible and translated forms…), save the forms that carry an IPv4 address,
 * which are judged by it. Inside it, these are not public.
 */
const REFUSED_IPV6 = refusedRanges('ipv6', [
  ['::1', 128, 'loopback'],
  ['::', 128, 'unspecified'],
  ['fc00::', 7, 'private'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'],
  ['ff00::', 8, 'multicast'],
  // IETF protocol assignments, Teredo among them; documentation (twice).
  ['2001::', 23, 'reserved'],
  ['2001:db8::', 32, 'reserved'],
  ['3fff::', 20, 'reserved'],
]);

const GLOBAL_UNICAST_IPV6 = blockListOf({ address: '2000::', prefix: 3, family: 'ipv6' });

/** IPv6 forms that reach an IPv4 address: IPv4-mapped, NAT64 (64:ff9b::/96), 6to4 (2002::/16). */
const CARRY_IPV4: readonly { network: net.BlockList; at: number }[] = [
  { network: blockListOf({ address: '::ffff:0:0', prefix: 96, family: 'ipv6' }), at: 6 },
  { network: blockListOf({ address: '64:ff9b::', prefix: 96, family: 'ipv6' }), at: 6 },
  { network: blockListOf({ address: '2002::', prefix: 16, family: 'ipv6' }), at: 1 },
];

/** The networks the operator allowed; everything else not public is refused. */
export class AllowedNetworks {
  readonly networks: readonly Network[];
  private readonly list = new net.BlockList();

  constructor(networks: readonly Network[]) {
    this.networks = networks;
    for (const network of networks) this.list.addSubnet(network.address, network.prefix, network.family);
  }

  /**
   * Whether the operator listed this address's network (not merely whether it is public): a CRM
   * connection outside the CRM's own domains may reach only these.
   */
  lists(address: string): boolean {
    const bare = address.replace(/%.*$/, '');
    const family = net.isIP(bare);
    if (family === 0) return false;
    if (this.list.check(bare, family === 4 ? 'ipv4' : 'ipv6')) return true;
    const carried = family === 6 ? carriedIpv4(bare) : undefined;
    return carried !== undefined && this.lists(carried);
  }

  /** Undefined when a delivery may go to this address, else why not (the kind of address it is). */
  refusal(address: string): RefusedKind | undefined {
    const bare = address.replace(/%.*$/, '');
    const family = net.isIP(bare);
    if (family === 0) return 'reserved';
    if (this.list.check(bare, family === 4 ? 'ipv4' : 'ipv6')) return undefined;
    if (family === 4) return kindIn(REFUSED_IPV4, bare, 'ipv4');
    const carried = carriedIpv4(bare);
    if (carried !== undefined) return this.refusal(carried);
    return kindIn(REFUSED_IPV6, bare, 'ipv6') ?? (GLOBAL_UNICAST_IPV6.check(bare, 'ipv6') ? undefined : 'reserved');
  }
}

/**
 * The address a host names literally (`169.254.169.254`, `[::1]`, and the IPv4 spellings a URL
 * parser and the system resolver read as one: `0x7f.1`, `2130706433`), else undefined for a name.
 */
export function literalAddress(host: string): string | undefined {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (net.isIP(bare) !== 0) return bare;
  if (!URL.canParse(`http://${bare}/`)) return undefined;
  const canonical = new URL(`http://${bare}/`).hostname;
  return net.isIPv4(canonical) ? canonical : undefined;
}

/**
 * One network of the setting: `10.0.0.0/8`, `fd00::/8`, or one address (`192.0.2.7`, a /32 or /128).
 * Undefined when it is none.
 */
export function parseNetwork(text: string): Network | undefined {
  const [address = '', prefixText, extra] = text.trim().split('/');
  const family = net.isIP(address);
  if (family === 0 || extra !== undefined) return undefined;
  const bits = family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

type RefusedRanges = readonly { network: net.BlockList; kind: RefusedKind }[];

/** Each refused range compiled once, at load, rather than at every check of an address. */
function refusedRanges(family: 'ipv4' | 'ipv6', ranges: readonly [string, number, RefusedKind][]): RefusedRanges {
  return ranges.map(([address, prefix, kind]) => ({ network: blockListOf({ address, prefix, family }), kind }));
}

function kindIn(ranges: RefusedRanges, address: string, family: 'ipv4' | 'ipv6'): RefusedKind | undefined {
  return ranges.find(({ network }) => network.check(address, family))?.kind;
}

function blockListOf(network: Network): net.BlockList {
  const list = new net.BlockList();
  list.addSubnet(network.address, network.prefix, network.family);
  return list;
}

/** The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), in dotted form. */
function carriedIpv4(address: string): string | undefined {
  const form = CARRY_IPV4.find(({ network }) => network.check(address, 'ipv6'));
  if (!form) return undefined;
  const words = ipv6Words(address);
  const high = words[form.at] ?? 0;
  const low = words[form.at + 1] ?? 0;
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The eight 16-bit words of a valid IPv6 address (`::` expanded, a trailing dotted IPv4 read as two). */
function ipv6Words(address: string): number[] {
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const text = dotted
    ? `${address.slice(0, dotted.index)}${((Number(dotted[1]) << 8) | Number(dotted[2])).toString(16)}:${((Number(dotted[3]) << 8) | Number(dotted[4])).toString(16)}`
    : address;
  const words = (part: string) => (part === '' ? [] : part.split(':').map((word) => Number.parseInt(word, 16)));
  const [head = '', tail] = text.split('::');
  if (tail === undefined) return words(head);
  const [before, after] = [words(head), words(tail)];
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
}
