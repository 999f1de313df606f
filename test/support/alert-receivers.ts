import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * Stand-ins for where alerts go (issue 22, part 3): an HTTP receiver for a Slack-compatible or
 * Teams incoming webhook or the signed webhook, and an SMTP sink. Both are real servers on
 * loopback ports and record what they accepted.
 */
export interface HookReceiver {
  url: string;
  /** Each accepted request's parsed JSON body, in arrival order. */
  received: Record<string, unknown>[];
  /** Requests refused for a bad signature. */
  refused: number;
  /** While set, every request is answered with this status and nothing is recorded. */
  failWith: number | undefined;
  /** Sent with `failWith` as its Retry-After header, when set. */
  retryAfter: string | undefined;
  /** Every TCP connection it accepted, whether a request came on it or not. */
  connections: number;
  close(): Promise<void>;
}

/** With `secret`, checks the signature exactly as docs/siem.md tells a receiver to. */
export async function startHookReceiver(
  options: { secret?: string; port?: number; onReceived?: (body: Record<string, unknown>) => void } = {},
): Promise<HookReceiver> {
  const receiver: HookReceiver = {
    url: '',
    received: [],
    refused: 0,
    failWith: undefined,
    retryAfter: undefined,
    connections: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (receiver.failWith !== undefined)
        return void res
          .writeHead(receiver.failWith, receiver.retryAfter === undefined ? {} : { 'retry-after': receiver.retryAfter })
          .end();
      if (options.secret !== undefined && !signed(options.secret, receiver.url, req.headers, body)) {
        receiver.refused += 1;
        return void res.writeHead(401).end();
      }
      const parsed = JSON.parse(body) as Record<string, unknown>;
      receiver.received.push(parsed);
      options.onReceived?.(parsed);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.on('connection', () => (receiver.connections += 1));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/T000/B000/secret-part`;
  return receiver;
}

function signed(secret: string, url: string, headers: http.IncomingHttpHeaders, body: string): boolean {
  const timestamp = headers['x-agent-governance-request-timestamp'];
  const signature = headers['x-agent-governance-signature-v1'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  if (Math.abs(Date.now() - Number(timestamp)) > 5 * 60_000) return false;
  const expected = createHmac('sha256', secret).update(`POST${url}${body}${timestamp}`).digest();
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | undefined;
  /** The raw message (headers and body) as the sink received it. */
  raw: string;
  /** The Subject header as a mail client shows it: unfolded, its encoded words decoded. */
  subject: string;
  /** The plain-text body as a mail client shows it: its transfer encoding undone. */
  text: string;
}

export interface SmtpSink {
  port: number;
  received: ReceivedMail[];
  /** Every TCP connection it accepted, whether a message came on it or not. */
  connections: number;
  close(): Promise<void>;
}

/** An SMTP server that takes any message (with a login when `user` and `password` are given). */
export async function startSmtpSink(
  options: { user?: string; password?: string; port?: number; onReceived?: (mail: ReceivedMail) => void } = {},
): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: options.user === undefined,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    onAuth: (auth, _session, callback) => {
      if (auth.username === options.user && auth.password === options.password)
        return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          user: session.user as string | undefined,
          raw,
          ...shownMail(raw),
        };
        received.push(mail);
        options.onReceived?.(mail);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const sink: SmtpSink = {
    port,
    received,
    connections: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  server.server.on('connection', () => (sink.connections += 1));
  return sink;
}

/** The subject and body of a single-part text message, decoded as a mail client would (RFC 2045, 2047). */
function shownMail(raw: string): { subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(headers)?.[1] ?? '';
  const subject = header('Subject').replace(
    /=\?UTF-8\?([QB])\?([^?]*)\?=(?:\s+(?==\?UTF-8\?))?/gi,
    (_, encoding: string, word: string) =>
      (encoding.toUpperCase() === 'B'
        ? Buffer.from(word, 'base64')
        : quotedPrintableBytes(word.replaceAll('_', ' '))
      ).toString('utf8'),
  );
  const encoding = header('Content-Transfer-Encoding').toLowerCase();
  const text =
    encoding === 'quoted-printable'
      ? quotedPrintableBytes(body.replace(/=\r\n/g, '')).toString('utf8')
      : encoding === 'base64'
        ? Buffer.from(body, 'base64').toString('utf8')
        : body;
  return { subject, text };
}

function quotedPrintableBytes(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=') {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i]!, 'utf8'));
  }
  return Buffer.from(bytes);
}
