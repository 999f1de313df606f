import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Node answers a request it cannot read (headers over its 16 KB limit, a request line that is not
 * HTTP, a body that stops arriving) before Express sees it, with a bare status line and no body:
 * the client got neither a code nor a sentence (issue 17). The same statuses, with our error body.
 */
export function answerUnreadableRequests(server: Server): void {
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
