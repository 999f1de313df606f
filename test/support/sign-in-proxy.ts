import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A proxy in front of a receiver that answers every request with a redirect to its sign-in page, as
 * an SSO gateway does: followed, a POST becomes a GET of the page, which answers 200.
 */
export interface SignInProxy {
  /** The origin to put in a destination's URL. */
  origin: string;
  /** Each request as `METHOD path`, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startSignInProxy(): Promise<SignInProxy> {
  const requests: string[] = [];
  const proxy = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/login') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<form>');
    res.writeHead(302, { location: '/login' }).end();
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => proxy.close(() => resolve())),
  };
}
