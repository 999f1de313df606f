import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { finished } from 'node:stream/promises';
import tls from 'node:tls';
import { AllowedNetworks, literalAddress, type Network, OUTBOUND_SETTING } from '../../domain/outbound-addresses.ts';
import { retryAfterMs } from '../../domain/siem-delivery.ts';
import { AppError } from '../../errors.ts';

/**
 * How the server reaches the addresses a workspace's admin configures (SIEM destinations, alert
 * channels' webhooks and SMTP hosts): only public ones, and those in the networks the operator
 * allowed (OUTBOUND_ALLOWED_NETWORKS). The check is made when the connection is opened, on the
 * address actually dialled, so a name that resolved to a public address when it was saved and to
 * 169.254.169.254 when it is used (DNS rebinding) is refused all the same. With an egress proxy
 * (OUTBOUND_PROXY), HTTP deliveries go through a CONNECT tunnel to the address so checked.
 */
export interface Outbound {
  /**
   * Refuses, when a destination is configured, a host that names a refused address itself (an IP
   * literal): 422 DESTINATION_NOT_ALLOWED. Host names are checked when used, as what they resolve to changes.
   */
  assertConfigurable(host: string, field: { path: string; what: string }): void;
  /** POSTs the body; the status the destination answered (with its Retry-After, if any), or why there was none, in one line. */
  post(url: string, request: { headers: Record<string, string>; body: string }, timeoutMs: number): Promise<PostAnswer>;
  /** A TCP connection to host:port through the same check (for SMTP). */
  connect(host: string, port: number, timeoutMs: number): Promise<net.Socket>;
}

type PostAnswer = { status: number; retryAfter?: string } | { failure: string };

/** Why a delivery failed, in one line, and how long the receiver asked us to wait (a 429 or 503's Retry-After). */
export interface DeliveryFailure {
  message: string;
  askedMs?: number | undefined;
}

/** A POST's answer as a delivery reads it: undefined when taken (2xx), else why not, `from` naming who answered. */
export function deliveryFailure(answer: PostAnswer, from: string, now: Date): DeliveryFailure | undefined {
  if ('failure' in answer) return { message: answer.failure };
  if (answer.status >= 200 && answer.status < 300) return undefined;
  const message = `HTTP ${answer.status} from ${from}`;
  if (answer.status !== 429 && answer.status !== 503) return { message };
  return { message, askedMs: retryAfterMs(answer.retryAfter, now) };
}

/**
 * What a refused delivery records: it names neither the address nor anything that answered there,
 * so a destination's lastError cannot be used to map the server's own network.
 */
const REFUSED_DELIVERY = `refused: the destination's address is not public (loopback, private, link-local or reserved) and ${OUTBOUND_SETTING} does not allow it`;

/** The operator's egress proxy, named in its failures so a person knows which setting to look at. */
const PROXY_SETTING = 'OUTBOUND_PROXY';

/** Fixed, as the proxy's answer may carry what the destination said. */
const PROXY_REFUSED = `proxy refused: the egress proxy ${PROXY_SETTING} names did not open a tunnel to the destination`;
const PROXY_UNREACHABLE = `proxy unreachable: the egress proxy ${PROXY_SETTING} names could not be reached or did not answer`;

/** A tunnel the proxy would not open, or a proxy that could not be reached: the failure says which. */
class ProxyFailed extends Error {}

/** A delivery the check stopped before any connection was opened. */
export class OutboundRefused extends Error {
  constructor() {
    super(REFUSED_DELIVERY);
    this.name = 'OutboundRefused';
  }
}

/**
 * Deliveries to public addresses and to these networks (the operator's OUTBOUND_ALLOWED_NETWORKS);
 * HTTP ones through the egress proxy when there is one (OUTBOUND_PROXY, an http:// URL).
 */
export function outboundTo(networks: readonly Network[], proxy?: URL): Outbound {
  const allowed = new AllowedNetworks(networks);
  /** Resolves as Node's own lookup does, and hands the socket only the addresses it may dial. */
  const lookup: net.LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const permitted = addresses.filter(({ address }) => allowed.refusal(address) === undefined);
      const [first] = permitted;
      if (first === undefined) return callback(new OutboundRefused(), '');
      if (options.all) return callback(null, permitted);
      callback(null, first.address, first.family);
    });
  };
  /** The address a delivery to this host may dial (a refused literal was turned away before). */
  const checkedAddress = (host: string) =>
    new Promise<string>((resolve, reject) => {
      const literal = literalAddress(host);
      if (literal !== undefined) return resolve(literal);
      lookup(host, {}, (error, address) => (error ? reject(error) : resolve(address as string)));
    });
  /**
   * A socket to the destination through the proxy: CONNECT names the checked address, never the host
   * name, so the proxy cannot be led by its own resolver to an address we refuse. TLS to an https
   * destination runs inside the tunnel, with the host name as SNI and as the name the certificate
   * must carry.
   */
  const tunnel = async (through: URL, target: URL, signal: AbortSignal): Promise<net.Socket> => {
    const address = await checkedAddress(target.hostname);
    const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
    const authority = `${net.isIPv6(address) ? `[${address}]` : address}:${port}`;
    const credentials = `${decodeURIComponent(through.username)}:${decodeURIComponent(through.password)}`;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const asked = http.request({
        host: through.hostname.replace(/^\[|\]$/g, ''),
        port: Number(through.port) || 80,
        method: 'CONNECT',
        path: authority,
        headers: {
          host: authority,
          ...(through.username === ''
            ? {}
            : { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` }),
        },
        agent: false,
        signal,
      });
      asked.once('connect', (answer, socket) => {
        // Any 2xx opens the tunnel (RFC 9110, 9.3.6); the body of any other answer is not read.
        const status = answer.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(socket);
        socket.destroy();
        reject(new ProxyFailed(PROXY_REFUSED));
      });
      asked.once('error', (error) => reject(signal.aborted ? error : new ProxyFailed(PROXY_UNREACHABLE)));
      asked.end();
    });
    if (target.protocol !== 'https:') return socket;
    const name = target.hostname.replace(/^\[|\]$/g, '');
    // SNI carries only a name; an address literal is still what the certificate must carry.
    return tls.connect({
      socket,
      host: name,
      servername: net.isIP(name) === 0 ? name : undefined,
      ALPNProtocols: ['http/1.1'],
    });
  };
  // Node skips the lookup for an address literal, so those are checked before connecting.
  const refusesLiteral = (host: string) => {
    const literal = literalAddress(host);
    return literal !== undefined && allowed.refusal(literal) !== undefined;
  };
  // Pools of their own (as Node's global agents are set), every socket dialled through `lookup`.
  const agents = {
    'http:': new http.Agent({ keepAlive: true, scheduling: 'lifo', timeout: 5_000, lookup }),
    'https:': new https.Agent({ keepAlive: true, scheduling: 'lifo', timeout: 5_000, lookup }),
  };
  return {
    assertConfigurable(host, field) {
      const literal = literalAddress(host);
      const kind = literal === undefined ? undefined : allowed.refusal(literal);
      if (kind === undefined) return;
      throw new AppError(
        'DESTINATION_NOT_ALLOWED',
        `${field.what} names ${host}, which is not a public address (${kind}): this server sends workspaces' deliveries only to public addresses, unless its operator allows that network in ${OUTBOUND_SETTING}.`,
        { details: { path: field.path, reason: 'address_not_public', setting: OUTBOUND_SETTING } },
      );
    },
    async post(url, request, timeoutMs) {
      const target = new URL(url);
      if (refusesLiteral(target.hostname)) return { failure: REFUSED_DELIVERY };
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        // Through the proxy, a tunnel of its own for each delivery; directly, a socket from the pool.
        const tunnelled = proxy && (await tunnel(proxy, target, signal));
        const connection = tunnelled
          ? { createConnection: () => tunnelled }
          : { agent: target.protocol === 'https:' ? agents['https:'] : agents['http:'] };
        const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
          // node:http follows no redirect: only the configured URL can acknowledge (a 3xx is a failure).
          const sent = (target.protocol === 'https:' ? https : http).request(
            target,
            {
              method: 'POST',
              headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
              ...connection,
              signal,
            },
            resolve,
          );
          sent.on('error', reject);
          sent.end(request.body);
        });
        // Drained so the connection goes back to the pool; the answer is not kept (it may echo data).
        await finished(response.resume());
        const retryAfter = response.headers['retry-after'];
        return { status: response.statusCode ?? 0, ...(retryAfter === undefined ? {} : { retryAfter }) };
      } catch (error) {
        if (error instanceof OutboundRefused) return { failure: REFUSED_DELIVERY };
        if (error instanceof ProxyFailed) return { failure: error.message };
        if (signal.aborted) return { failure: `no answer within ${timeoutMs} ms` };
        const { code } = error as { code?: unknown };
        return { failure: `request failed${typeof code === 'string' ? ` (${code})` : ''}` };
      }
    },
    connect(host, port, timeoutMs) {
      if (refusesLiteral(host)) return Promise.reject(new OutboundRefused());
      return new Promise((resolve, reject) => {
        const socket = net.connect({ host: literalAddress(host) ?? host, port, lookup });
        const timer = setTimeout(
          () => socket.destroy(Object.assign(new Error('connection timeout'), { code: 'ETIMEDOUT' })),
          timeoutMs,
        );
        socket.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.removeAllListeners('error');
          resolve(socket);
        });
      });
    },
  };
}
