import { describe, expect, it } from 'vitest';
import { orgAddressRefusal } from '../../server/src/crm/salesforce/org-addresses.ts';
import { AllowedNetworks, parseNetwork } from '../../server/src/domain/outbound-addresses.ts';

// Issue 20: which login and instance URLs the server may reach an org at.
const none = { networks: new AllowedNetworks([]) };
const listing = (...networks: string[]) => ({
  networks: new AllowedNetworks(networks.map((network) => parseNetwork(network)!)),
});

describe('where an org may be reached', () => {
  it.each([
    'https://login.salesforce.com',
    'https://test.salesforce.com',
    'https://acme.my.salesforce.com',
    'https://acme--uat.sandbox.my.salesforce.com',
    'https://acme-dev-ed.develop.my.salesforce.com',
    'https://na1.salesforce.com',
    'https://acme.lightning.force.com',
    'https://acme.my.site.com',
    'https://acme.my.salesforce.mil',
    'https://ACME.My.Salesforce.com:443/',
  ])('takes %s, on Salesforce’s own domains over https', (url) => {
    expect(orgAddressRefusal(url, none)).toBeUndefined();
  });

  it.each([
    ['http://acme.my.salesforce.com', 'host_not_allowed'],
    ['https://salesforce.com.example.net', 'host_not_allowed'],
    ['https://evilsalesforce.com', 'host_not_allowed'],
    ['https://acme.site.com', 'host_not_allowed'],
    ['https://login.example.com', 'host_not_allowed'],
    ['https://localhost:8443', 'host_not_allowed'],
    ['https://8.8.8.8', 'host_not_allowed'],
    ['https://login.salesforce.com@10.0.0.5/', 'address_not_public'],
    ['http://2130706433:3002', 'address_not_public'],
    ['http://[fd12::1]', 'address_not_public'],
    ['http://[64:ff9b::a9fe:a9fe]', 'address_not_public'],
    ['ftp://login.salesforce.com', 'host_not_allowed'],
    ['not a url', 'host_not_allowed'],
  ])('refuses %s (%s) when no network is allowed', (url, reason) => {
    expect(orgAddressRefusal(url, none)).toMatchObject({ reason });
  });

  it('takes an address in a network the operator lists, and only there; a name is never taken for what it resolves to', () => {
    const allowed = listing('10.1.2.0/24', '127.0.0.1/32');
    expect(orgAddressRefusal('https://10.1.2.3', allowed)).toBeUndefined();
    expect(orgAddressRefusal('http://127.0.0.1:3002', allowed)).toBeUndefined();
    expect(orgAddressRefusal('http://[::ffff:10.1.2.3]:80', allowed)).toBeUndefined();
    expect(orgAddressRefusal('https://10.1.3.1', allowed)).toMatchObject({
      reason: 'address_not_public',
      kind: 'private',
    });
    expect(orgAddressRefusal('http://127.0.0.2', allowed)).toMatchObject({
      reason: 'address_not_public',
      kind: 'loopback',
    });
    expect(orgAddressRefusal('http://localhost:3002', allowed)).toMatchObject({ reason: 'host_not_allowed' });
    // A public address is not Salesforce's for being public: only listed, it is reachable.
    expect(orgAddressRefusal('https://8.8.8.8', listing('8.8.8.8/32'))).toBeUndefined();
  });

  it('takes the one origin of a local Salesforce this process started itself, not its neighbours', () => {
    const demo = { networks: new AllowedNetworks([]), localOrigins: new Set(['http://127.0.0.1:3002']) };
    expect(orgAddressRefusal('http://127.0.0.1:3002', demo)).toBeUndefined();
    expect(orgAddressRefusal('http://127.0.0.1:3002/services/oauth2/token', demo)).toBeUndefined();
    expect(orgAddressRefusal('http://127.0.0.1:5432', demo)).toMatchObject({ reason: 'address_not_public' });
    expect(orgAddressRefusal('https://127.0.0.1:3002', demo)).toMatchObject({ reason: 'address_not_public' });
  });
});
