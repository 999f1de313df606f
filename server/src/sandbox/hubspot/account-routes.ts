import type { CustomRoute } from './custom-objects.ts';
import { json, type HubSpotResponse } from './responses.ts';
import type { HubSpotState } from './state.ts';

/** GET /account-info/v3/details, in the documented shape; the portal id is a number there. */
function accountDetails(state: HubSpotState): HubSpotResponse {
  return json(200, {
    portalId: Number(state.portalId),
    accountType: 'SANDBOX',
    timeZone: 'US/Eastern',
    companyCurrency: 'USD',
    additionalCurrencies: [],
    utcOffset: '-05:00',
    utcOffsetMilliseconds: -18_000_000,
    uiDomain: 'app.hubspot.com',
    dataHostingLocation: 'na1',
  });
}

export const ACCOUNT_ROUTES: CustomRoute[] = [
  {
    method: 'GET',
    template: '/account-info/v3/details',
    pattern: /^\/account-info\/v3\/details$/,
    handle: (s) => accountDetails(s),
  },
];
