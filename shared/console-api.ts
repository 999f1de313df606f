import { z } from 'zod';
import { objectTypeSchema, propertyNameSchema, recordIdSchema } from './crm-names.ts';
import type { Caller, EngagedKillSwitch, PendingApprovalCard } from './extension-api.ts';
import { safeText } from './safe-text.ts';

/**
 * The web console's API (issue 19), under /console/api, called by console/ with a session cookie.
 * Decisions, the card, batches, audit search and rollbacks answer with the HubSpot app's shapes
 * (shared/extension-api.ts), so the card and the console show the same thing.
 */

/** Every state-changing console call carries this header: a cross-site form cannot set it (CSRF). */
export const CONSOLE_REQUEST_HEADER = 'x-console-request';

/** The path of the one-time link; `next` (optional) is a console path to land on. */
export const SIGN_IN_PATH = '/sign-in';

export const signInQuerySchema = z.strictObject({
  token: safeText.min(1).max(200),
  next: safeText.max(2_000).optional(),
});

export const inboxQuerySchema = z.strictObject({
  agent: z.uuid().optional(),
  batch: safeText.min(1).max(200).optional(),
  record: recordIdSchema.optional(),
  property: propertyNameSchema.optional(),
  /** Only what has waited at least this long. */
  olderThanMinutes: z.coerce.number().int().min(0).max(525_600).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type InboxQuery = z.infer<typeof inboxQuerySchema>;

export const recordParamsSchema = z.strictObject({ objectType: objectTypeSchema, recordId: recordIdSchema });

export interface SessionView {
  workspace: { id: string; name: string };
  caller: Caller;
}

export interface InboxView {
  caller: Caller;
  killSwitches: EngagedKillSwitch[];
  items: PendingApprovalCard[];
}

/** The one-time link a person opens; the server, its CLI and the demo print it the same way. */
export function signInUrl(serverUrl: string, token: string): string {
  return `${serverUrl.replace(/\/+$/, '')}${SIGN_IN_PATH}?token=${encodeURIComponent(token)}`;
}
