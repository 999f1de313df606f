import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSalesforceSandboxServer,
  type SalesforceSandboxServer,
} from '../../server/src/sandbox/salesforce/http-server.ts';
import {
  addClient,
  createSalesforceSandboxState,
  newId,
  signInUser,
  type SalesforceSandboxState,
} from '../../server/src/sandbox/salesforce/state.ts';

/** The UserInfo call that proves a Canvas signed request's token live (issue 20): the local Salesforce answers it as Salesforce does. */

let state: SalesforceSandboxState;
let server: SalesforceSandboxServer;
let url: string;
const USER = newId('005', 77);

beforeAll(async () => {
  state = createSalesforceSandboxState();
  server = createSalesforceSandboxServer(state);
  url = await server.listen(0);
  addClient(state, { clientId: 'eca', clientSecret: 'secret' });
});
afterAll(() => server.close());

const userinfo = (headers: Record<string, string>) => fetch(`${url}/services/oauth2/userinfo`, { headers });
const revoke = (token: string) =>
  fetch(`${url}/services/oauth2/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });

describe('the local Salesforce’s identity service', () => {
  it('answers a live token with the user and org as Salesforce’s UserInfo shapes them', async () => {
    const token = signInUser(state, { id: USER, clientId: 'eca' });
    const response = await userinfo({ authorization: `Bearer ${token}` });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      sub: `${url}/id/${state.orgId}/${USER}`,
      user_id: USER,
      organization_id: state.orgId,
      preferred_username: expect.any(String),
      email_verified: true,
      active: true,
      user_type: 'STANDARD',
    });
  });

  it('refuses a revoked, an unknown and a missing token in plain text, 403, as Salesforce’s identity URLs do', async () => {
    const token = signInUser(state, { id: USER, clientId: 'eca' });
    expect((await revoke(token)).status).toBe(200);
    for (const authorization of [`Bearer ${token}`, 'Bearer 00Dnothing!here']) {
      const response = await userinfo({ authorization });
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await response.text()).toBe('Bad_OAuth_Token');
    }
    const none = await userinfo({});
    expect([none.status, await none.text()]).toEqual([403, 'Missing_OAuth_Token']);
    const again = await revoke(token);
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({
      error: 'unsupported_token_type',
      error_description: 'this token type is not supported',
    });
  });
});
