import { createServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The HTTP server for `app`: a request must arrive whole within `requestTimeoutMs` (Node's own
 * default is 5 minutes), so a client that sends its headers and then a body that never comes (a
 * slow-request attack, or a stalled proxy) frees its socket within about that, answered 408 with
 * our error body. Node checks open requests on an interval: a quarter of the timeout, at most 30 s.
 */
export function createHttpServer(app: RequestListener, options: { requestTimeoutMs: number }): Server {
  const server = createServer(
    {
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: Math.min(60_000, options.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(options.requestTimeoutMs / 4))),
    },
    app,
  );
  answerUnreadableRequests(server);
  return server;
}

/**
 * Node answers a request it cannot read (headers over its 16 KB limit, a request line that is not
 * HTTP, a body that stops arriving) before Express sees it, with a bare status line and no body:
 * the client got neither a code nor a sentence (issue 17). The same statuses, with our error body.
 */
function answerUnreadableRequests(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // As Node's own handler: answer only on a socket that can still take one and has had no answer yet.
    if (socket.writable && socket.bytesWritten === 0) {
      const [status, reason, message] = refusalOf(error.code);
      const body = JSON.stringify({ error: { code: 'VALIDATION_FAILED', message } });
      socket.write(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroySoon();
  });
}

function refusalOf(code: string | undefined): [number, string, string] {
  if (code === 'HPE_HEADER_OVERFLOW')
    return [
      431,
      'Request Header Fields Too Large',
      'The request headers are larger than this server reads: send shorter ones (a shorter token, fewer cookies).',
    ];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return [408, 'Request Timeout', 'The request did not arrive in full in time: send it again, all at once.'];
  return [400, 'Bad Request', 'This is not a valid HTTP request: check the request line and the headers.'];
}
