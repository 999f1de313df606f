import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { finished } from 'node:stream/promises';
import { AllowedNetworks, literalAddress, type Network, OUTBOUND_SETTING } from '../../domain/outbound-addresses.ts';
import { AppError } from '../../errors.ts';

/**
 * How the server reaches the addresses a workspace's admin configures (SIEM destinations, alert
 * channels' webhooks and SMTP hosts): only public ones, and those in the networks the operator
 * allowed (OUTBOUND_ALLOWED_NETWORKS). The check is made when the connection is opened, on the
 * address actually dialled, so a name that resolved to a public address when it was saved and to
 * 169.254.169.254 when it is used (DNS rebinding) is refused all the same.
 */
export interface Outbound {
  /**
   * Refuses, when a destination is configured, a host that names a refused address itself (an IP
   * literal): 422 DESTINATION_NOT_ALLOWED. Host names are checked when used, as what they resolve to changes.
   */
  assertConfigurable(host: string, field: { path: string; what: string }): void;
  /** POSTs the body; the status the destination answered, or why there was none, in one line. */
  post(url: string, request: { headers: Record<string, string>; body: string }, timeoutMs: number): Promise<PostAnswer>;
  /** A TCP connection to host:port through the same check (for SMTP). */
  connect(host: string, port: number, timeoutMs: number): Promise<net.Socket>;
}

type PostAnswer = { status: number } | { failure: string };

/**
 * What a refused delivery records: it names neither the address nor anything that answered there,
 * so a destination's lastError cannot be used to map the server's own network.
 */
const REFUSED_DELIVERY = `refused: the destination's address is not public (loopback, private, link-local or reserved) and ${OUTBOUND_SETTING} does not allow it`;

/** A delivery the check stopped before any connection was opened. */
export class OutboundRefused extends Error {
  constructor() {
    super(REFUSED_DELIVERY);
    this.name = 'OutboundRefused';
  }
}

/** Deliveries to public addresses and to these networks (the operator's OUTBOUND_ALLOWED_NETWORKS). */
export function outboundTo(networks: readonly Network[]): Outbound {
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
      const agent = target.protocol === 'https:' ? agents['https:'] : agents['http:'];
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
          // node:http follows no redirect: only the configured URL can acknowledge (a 3xx is a failure).
          const sent = (target.protocol === 'https:' ? https : http).request(
            target,
            {
              method: 'POST',
              headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
              agent,
              signal,
            },
            resolve,
          );
          sent.on('error', reject);
          sent.end(request.body);
        });
        // Drained so the connection goes back to the pool; the answer is not kept (it may echo data).
        await finished(response.resume());
        return { status: response.statusCode ?? 0 };
      } catch (error) {
        if (error instanceof OutboundRefused) return { failure: REFUSED_DELIVERY };
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
