import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ConnectProxy, startConnectProxy } from '../support/connect-proxy.ts';
import { LOOPBACK_NETWORKS, outboundAllowing } from '../support/outbound.ts';

// Egress proxy (issue 22): TLS to an https destination runs inside the CONNECT tunnel, end to end
// with the destination. Here, with no harness, as the harness's HTTP interception (msw) does not
// carry TLS layered over a tunnel socket; test/api/outbound-proxy.test.ts covers the deliveries.

let egress: ConnectProxy;
let collector: https.Server;
const servernames: string[] = [];

beforeAll(async () => {
  egress = await startConnectProxy();
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  collector = https.createServer(
    {
      key: pems.private,
      cert: pems.cert,
      // Called with the SNI the client sent, before the handshake the client then abandons.
      SNICallback: (servername, done) => {
        servernames.push(servername);
        done(null, undefined);
      },
    },
    (_req, res) => res.writeHead(200).end(),
  );
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await egress.close();
  collector.closeAllConnections();
  await new Promise((resolve) => collector.close(resolve));
});

it('speaks TLS to an https destination inside the tunnel, naming its host in SNI, and verifies its certificate', async () => {
  const { port } = collector.address() as AddressInfo;
  const outbound = outboundAllowing(LOOPBACK_NETWORKS, egress.url);

  const answer = await outbound.post(`https://localhost:${port}/v1/logs`, { headers: {}, body: '{}' }, 5_000);

  // The proxy was asked for the checked address; the destination was told the name.
  expect(egress.asked).toEqual([`127.0.0.1:${port}`]);
  expect(servernames).toEqual(['localhost']);
  // A self-signed certificate is no CA's: refused through the tunnel as it is without one.
  expect(answer).toEqual({ failure: 'request failed (DEPTH_ZERO_SELF_SIGNED_CERT)' });
});
