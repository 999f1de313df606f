import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

/**
 * A stand-in for an enterprise's egress proxy: a real HTTP server that opens CONNECT tunnels, as
 * Squid would, and records what it was asked for.
 */
export interface ConnectProxy {
  /** Its OUTBOUND_PROXY, with the credentials it requires when it requires some. */
  url: string;
  /** The same proxy named with other credentials. */
  urlWith(user: string, password: string): string;
  /** Each tunnel asked for, as the CONNECT line named it (`127.0.0.1:4318`), opened or not. */
  asked: string[];
  /** Tunnels it opened to their target. */
  tunnels: number;
  /** The first bytes sent through each tunnel opened, as text (an http destination's request head). */
  sent: string[];
  close(): Promise<void>;
}

/** With `credentials` (`user:password`), a CONNECT without them is answered 407, as Squid's basic auth does. */
export async function startConnectProxy(options: { credentials?: string } = {}): Promise<ConnectProxy> {
  const sockets = new Set<net.Socket>();
  const proxy: ConnectProxy = {
    url: '',
    urlWith: () => '',
    asked: [],
    tunnels: 0,
    sent: [],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    proxy.asked.push(req.url ?? '');
    const expected = options.credentials && `Basic ${Buffer.from(options.credentials).toString('base64')}`;
    if (expected && req.headers['proxy-authorization'] !== expected)
      return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n');
    const { hostname, port } = new URL(`http://${req.url}`);
    const upstream = net.connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) }, () => {
      proxy.tunnels += 1;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      client.once('data', (chunk: Buffer) => proxy.sent.push(chunk.toString('latin1')));
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  proxy.urlWith = (user, password) => `http://${user}:${password}@127.0.0.1:${port}`;
  proxy.url = options.credentials ? `http://${options.credentials}@127.0.0.1:${port}` : `http://127.0.0.1:${port}`;
  return proxy;
}
