import net from 'node:net';

/**
 * Sends `request` as raw bytes to the server at `url` and resolves to all it answered once it
 * closes the connection: for requests no HTTP client would send. With `end`, the request is the
 * whole of what the client sends; without, the connection stays open for the server to give up on.
 */
export function rawExchange(url: string, request: string, options: { end: boolean }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    if (options.end) socket.end(request);
    else socket.write(request);
  });
}
