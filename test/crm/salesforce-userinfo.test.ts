import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSalesforceCrm } from '../../server/src/crm/salesforce/adapter.ts';
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
import { LOOPBACK_ORG_ADDRESSES } from '../support/outbound.ts';

/**
 * The UserInfo call that proves a Canvas signed request's token live (issue 20): the local
 * Salesforce answers it as Salesforce does, and the adapter asks it at the org's own address.
 */

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

describe('the adapter’s check of a user’s token', () => {
  const crm = () =>
    createSalesforceCrm({
      loginUrl: url,
      addresses: LOOPBACK_ORG_ADDRESSES,
      auth: { kind: 'client_credentials', clientId: 'eca', clientSecret: 'secret' },
    });

  it('names the token’s user and org, 18 characters each, and the org’s own origins', async () => {
    const embedded = crm().embeddedApp;
    const token = signInUser(state, { id: USER, clientId: 'eca' });
    expect(await embedded?.userOfToken(token)).toEqual({ crmUserId: USER, accountId: state.orgId });
    expect(await embedded?.origins()).toEqual([new URL(url).origin]);
  });

  it('refuses a dead token as UNAUTHENTICATED, and an identity service that is down as CRM_UNAVAILABLE', async () => {
    const embedded = crm().embeddedApp;
    const token = signInUser(state, { id: USER, clientId: 'eca' });
    await revoke(token);
    await expect(embedded?.userOfToken(token)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      details: { reason: 'crm_token_refused' },
    });
    state.faults.identityDown = true;
    try {
      const live = signInUser(state, { id: USER, clientId: 'eca' });
      await expect(embedded?.userOfToken(live)).rejects.toMatchObject({ code: 'CRM_UNAVAILABLE', retryable: true });
    } finally {
      state.faults.identityDown = false;
    }
  });
});
