import type { SalesforceSandboxState } from './state.ts';
import type { SfRequest, SfResponse } from './wire.ts';

/**
 * The identity service's routes a Canvas app uses: `/services/oauth2/userinfo` (OpenID Connect
 * UserInfo), asked with a user's access token, answers that user with the fields Salesforce's
 * answer carries (`user_id`, `organization_id` 18 characters, `sub` the identity URL…); a token
 * it does not know, or that expired, is refused 403 `Bad_OAuth_Token` in plain text, none at all
 * 403 `Missing_OAuth_Token`, as Salesforce's identity URLs answer. `/services/oauth2/revoke`
 * (a form's `token`) revokes an access token: 200, or 400 `unsupported_token_type` for one it
 * does not know.
 */
export function identityRoute(state: SalesforceSandboxState, request: SfRequest, baseUrl: string): SfResponse {
  if (request.path === '/services/oauth2/revoke') {
    if (request.method !== 'POST') return { status: 405, text: 'Method Not Allowed' };
    const token = new URLSearchParams(request.rawBody).get('token') ?? request.query.get('token') ?? '';
    if (!state.sessions.delete(token))
      return {
        status: 400,
        body: { error: 'unsupported_token_type', error_description: 'this token type is not supported' },
      };
    return { status: 200, text: '' };
  }
  if (state.faults.identityDown) return { status: 503, text: 'Internal Error' };
  const token =
    (request.headers['authorization'] ?? '').replace(/^(Bearer|OAuth) /, '') || request.query.get('oauth_token');
  if (!token) return { status: 403, text: 'Missing_OAuth_Token' };
  const session = state.sessions.get(token);
  const user = session ? state.users.get(session.userId) : undefined;
  if (!session || !user || session.expiresAt <= state.now().getTime()) return { status: 403, text: 'Bad_OAuth_Token' };
  const [givenName = '', ...rest] = user.name.split(' ');
  return {
    status: 200,
    body: {
      sub: `${baseUrl}/id/${state.orgId}/${user.id}`,
      user_id: user.id,
      organization_id: state.orgId,
      preferred_username: user.username,
      nickname: user.username.split('@')[0],
      name: user.name,
      email: user.username,
      email_verified: true,
      given_name: givenName,
      family_name: rest.join(' '),
      zoneinfo: 'GMT',
      profile: `${baseUrl}/${user.id}`,
      address: {},
      is_salesforce_integration_user: false,
      urls: {
        rest: `${baseUrl}/services/data/v{version}/`,
        sobjects: `${baseUrl}/services/data/v{version}/sobjects/`,
        profile: `${baseUrl}/${user.id}`,
      },
      active: true,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: 0,
      updated_at: '2026-01-01T00:00:00Z',
    },
  };
}
