import { createSign } from 'node:crypto';
import type { Connection } from '@jsforce/jsforce-node';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { instanceUrlRefusal, loginUrlRefusal, type OrgAddresses } from './org-addresses.ts';

/**
 * How the app signs in to an org through its External Client App (the username-password flow is
 * being retired): client credentials run as the app's "Run As" user; the JWT bearer flow as the
 * user named, with an assertion signed by the app's certificate key. Neither has a refresh token:
 * a new access token is minted when the old one expires.
 */
export type SalesforceAuth =
  | { kind: 'client_credentials'; clientId: string; clientSecret: string }
  | { kind: 'jwt_bearer'; clientId: string; username: string; privateKeyPem: string };

/** An access token and where it works; persisted sealed by the caller, like HubSpot's token. */
export interface SalesforceSession {
  accessToken: string;
  instanceUrl: string;
}

/** The assertion the JWT bearer flow posts: RS256 over iss (client id), sub (user), aud (login URL) and a 3-minute exp. */
export function jwtAssertion(
  auth: Extract<SalesforceAuth, { kind: 'jwt_bearer' }>,
  audience: string,
  now: Date,
): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({
    iss: auth.clientId,
    sub: auth.username,
    aud: audience,
    exp: Math.floor(now.getTime() / 1000) + 180,
  })}`;
  let signature: string;
  try {
    signature = createSign('RSA-SHA256').update(unsigned).sign(auth.privateKeyPem).toString('base64url');
  } catch {
    // The key is the admin's input: a PEM that is no RSA private key is their error, reported as one.
    throw new AppError(
      'CRM_AUTH_FAILED',
      'The JWT bearer private key could not sign: privateKeyPem must be the PEM of the RSA private key whose certificate the External Client App holds.',
      { details: { revoked: false } },
    );
  }
  return `${unsigned}.${signature}`;
}

/**
 * Asks the token endpoint for a new access token. A refused grant (revoked app, blocked user,
 * wrong secret) is CRM_AUTH_FAILED with `revoked: true`: it is reported, never retried. So is a
 * login URL, or an instance URL answered, that `addresses` does not let the server reach: nothing
 * is sent to it.
 */
export async function mintSession(
  loginUrl: string,
  auth: SalesforceAuth,
  now: Date,
  addresses: OrgAddresses,
): Promise<SalesforceSession & { userId: string; orgId: string }> {
  const unreachable = loginUrlRefusal(loginUrl, addresses);
  if (unreachable) throw unreachable;
  const { OAuth2 } = await loadJsforce();
  const oauth2 = new OAuth2({
    loginUrl,
    clientId: auth.clientId,
    ...(auth.kind === 'client_credentials' ? { clientSecret: auth.clientSecret } : {}),
  });
  const params: { grant_type: string; [name: string]: string } =
    auth.kind === 'client_credentials'
      ? { grant_type: 'client_credentials' }
      : { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtAssertion(auth, loginUrl, now) };
  let answer: unknown;
  try {
    answer = await oauth2.requestToken(params);
  } catch (error) {
    const name = error instanceof Error ? error.name : 'unknown';
    const message = error instanceof Error ? error.message : String(error);
    if (name.startsWith('ERROR_HTTP_5') || name === 'TypeError' || name === 'FetchError')
      throw new AppError('CRM_UNAVAILABLE', `Salesforce's token endpoint could not be reached (${message}).`, {
        retryable: true,
        cause: error,
      });
    throw new AppError(
      'CRM_AUTH_FAILED',
      `Salesforce refused to sign the app in (${name}: ${message}). Check the External Client App's policies and that it is still installed; the connection stays stopped until its credentials are fixed.`,
      { details: { revoked: true, oauthError: name }, cause: error },
    );
  }
  const token = tokenAnswerSchema.safeParse(answer);
  // Whatever answers 200 at the login URL (a web page, another app) is no token endpoint: the URL is the admin's error.
  if (!token.success)
    throw new AppError(
      'CRM_AUTH_FAILED',
      `${loginUrl} answered, but not as a Salesforce token endpoint does (no access token, instance URL and identity): the login URL must be the org's My Domain URL, such as https://acme.my.salesforce.com.`,
      { details: { revoked: false } },
    );
  // A token endpoint the tenant runs could answer an address inside the server's network: no call goes there.
  const elsewhere = instanceUrlRefusal(token.data.instance_url, addresses);
  if (elsewhere) throw elsewhere;
  const [orgId = '', userId = ''] = token.data.id.split('/').slice(-2);
  return { accessToken: token.data.access_token, instanceUrl: token.data.instance_url, userId, orgId };
}

/** What Salesforce's token endpoint answers a granted request: `id` is the identity URL, `…/id/<org id>/<user id>`. */
const tokenAnswerSchema = z.object({ access_token: z.string().min(1), instance_url: z.url(), id: z.string().min(1) });

/**
 * jsforce is loaded with the first sign-in or connection, not with this module: a process that never
 * calls Salesforce (a CLI command that reads only our database, a server of HubSpot portals) does
 * not carry its ~10 MB of heap.
 */
const loadJsforce = () => import('@jsforce/jsforce-node');

/**
 * A jsforce connection at an explicit API version (jsforce defaults to 50.0), tagging every call
 * with `Sforce-Call-Options: client=<ours>` so change events tell our writes from others'. On an
 * expired session jsforce calls `refreshFn` once and repeats the request; we mint a new token and
 * hand it to `onSession` to be persisted.
 */
export async function openConnection(options: {
  loginUrl: string;
  auth: SalesforceAuth;
  addresses: OrgAddresses;
  apiVersion: string;
  callClient: string;
  session: SalesforceSession | undefined;
  onSession: (session: SalesforceSession) => void;
  /** jsforce rewraps a refresh's error as a plain Error; this hears ours first (a revoked app, say). */
  onRefreshFailure: (error: unknown) => void;
  now: () => Date;
}): Promise<Connection> {
  const { Connection } = await loadJsforce();
  const connection = new Connection({
    loginUrl: options.loginUrl,
    version: options.apiVersion,
    callOptions: { client: options.callClient },
    ...(options.session ?? {}),
    refreshFn: (conn, callback) => {
      mintSession(options.loginUrl, options.auth, options.now(), options.addresses).then(
        (session) => {
          conn.instanceUrl = session.instanceUrl;
          options.onSession({ accessToken: session.accessToken, instanceUrl: session.instanceUrl });
          callback(null, session.accessToken);
        },
        (error: unknown) => {
          options.onRefreshFailure(error);
          callback(error instanceof Error ? error : new Error(String(error)));
        },
      );
    },
  });
  return connection;
}
