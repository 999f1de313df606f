import { describe, expect, it } from 'vitest';
import { AllowedNetworks, literalAddress, parseNetwork } from '../../server/src/domain/outbound-addresses.ts';

const PUBLIC_ONLY = new AllowedNetworks([]);

describe('the addresses a delivery may go to', () => {
  it('refuses loopback, private, link-local, CGNAT, unspecified, multicast and reserved addresses, in every spelling', () => {
    const refused: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.254', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['100.64.0.1', 'shared (carrier-grade NAT)'],
      ['0.0.0.0', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['240.0.0.1', 'reserved'],
      ['192.0.2.10', 'reserved'],
      ['198.18.0.1', 'reserved'],
      ['::1', 'loopback'],
      ['::', 'unspecified'],
      ['fc00::1', 'private'],
      ['fd12:3456::1', 'private'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'reserved'],
      ['2001:0:4136:e378::1', 'reserved'],
      // IPv4-mapped, NAT64 and 6to4 forms reach the IPv4 address they carry.
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:a9fe:a9fe', 'link-local'],
      ['64:ff9b::a9fe:a9fe', 'link-local'],
      ['64:ff9b::10.0.0.1', 'private'],
      ['2002:a9fe:a9fe::1', 'link-local'],
      // Deprecated IPv4-compatible and translated forms are not global unicast.
      ['::127.0.0.1', 'reserved'],
      ['::ffff:0:7f00:1', 'reserved'],
    ];
    for (const [address, kind] of refused) expect(PUBLIC_ONLY.refusal(address), address).toBe(kind);
  });

  it('lets public addresses through, those carried in IPv6 forms too', () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '172.32.0.1',
      '100.128.0.1',
      '2606:4700::1111',
      '2a00:1450:4001::200e',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
      '2002:808:808::1',
    ])
      expect(PUBLIC_ONLY.refusal(address), address).toBeUndefined();
  });

  it('lets through what the operator allowed, and only that', () => {
    const allowed = new AllowedNetworks(['127.0.0.0/8', '::1/128', '10.20.0.0/16'].map((text) => parseNetwork(text)!));
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.20.3.4', '64:ff9b::a14:304'])
      expect(allowed.refusal(address), address).toBeUndefined();
    for (const address of ['10.21.0.1', '169.254.169.254', '192.168.1.1', 'fd00::1'])
      expect(allowed.refusal(address), address).toBeDefined();
  });

  it('reads an address literal as the URL parser and the resolver do, and a name as no address', () => {
    expect(literalAddress('169.254.169.254')).toBe('169.254.169.254');
    expect(literalAddress('[::1]')).toBe('::1');
    expect(literalAddress('::ffff:7f00:1')).toBe('::ffff:7f00:1');
    expect(literalAddress('0x7f.1')).toBe('127.0.0.1');
    expect(literalAddress('2130706433')).toBe('127.0.0.1');
    expect(literalAddress('127.1')).toBe('127.0.0.1');
    expect(literalAddress('localhost')).toBeUndefined();
    expect(literalAddress('splunk.example.com')).toBeUndefined();
  });

  it('parses a network in CIDR notation or a single address, and nothing else', () => {
    expect(parseNetwork('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseNetwork(' fd00::/8 ')).toEqual({ address: 'fd00::', prefix: 8, family: 'ipv6' });
    expect(parseNetwork('192.0.2.7')).toEqual({ address: '192.0.2.7', prefix: 32, family: 'ipv4' });
    for (const text of ['10.0.0.0/33', 'fd00::/129', '10.0.0.0/', '10.0.0.0/8/1', '10.0.0.0/-1', 'splunk.local/32', ''])
      expect(parseNetwork(text), text).toBeUndefined();
  });
});
