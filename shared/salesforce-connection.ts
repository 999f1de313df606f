import { z } from 'zod';
import { safeText } from './safe-text.ts';

/**
 * How a workspace reaches a Salesforce org (issue 20): the org's My Domain URL (its token endpoint)
 * and the External Client App's credentials, client credentials or the JWT bearer flow. Sealed
 * whole in the workspace row; never returned.
 */
export const salesforceConnectionSchema = z.strictObject({
  // A token endpoint is reached over HTTP(S): another scheme (file:, data:) is an address of nothing to sign in to.
  loginUrl: safeText.url({
    protocol: /^https?$/,
    message: 'must be the org’s My Domain URL, such as https://acme.my.salesforce.com',
  }),
  auth: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('client_credentials'), clientId: safeText.min(1), clientSecret: safeText.min(1) }),
    z.strictObject({
      kind: z.literal('jwt_bearer'),
      clientId: safeText.min(1),
      username: safeText.min(1),
      privateKeyPem: safeText.includes('PRIVATE KEY', { message: 'must be a PEM private key' }),
    }),
  ]),
  /** Share (0..1) of the org's daily API allocation the app may spend before it stops. */
  apiShare: z.number().gt(0).max(1).default(0.5),
});
export type SalesforceConnection = z.infer<typeof salesforceConnectionSchema>;
export type SalesforceConnectionInput = z.input<typeof salesforceConnectionSchema>;

/** A Salesforce org id: 15 or 18 characters starting 00D. */
export const salesforceOrgIdSchema = safeText.regex(
  /^00D[a-zA-Z0-9]{12}(?:[a-zA-Z0-5]{3})?$/,
  'must be a Salesforce org id (00D…)',
);
