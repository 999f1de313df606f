import { z } from 'zod';
import { actionDecisionSchema } from './action-api.ts';

/**
 * Decisions the HubSpot app takes beyond one approval (issue 8): a held draft from the record
 * card. As everywhere in the app, who decides comes from HubSpot's signature, never from the body.
 */

const [approveDraft, rejectDraft] = actionDecisionSchema.options;

/** Approve (optionally after editing the subject or body) or reject with a reason, as the admin API's draft decision without `actingUserId`. */
export const extensionDraftDecisionSchema = z.discriminatedUnion('kind', [approveDraft.omit({ actingUserId: true }), rejectDraft.omit({ actingUserId: true })]);
export type ExtensionDraftDecision = z.infer<typeof extensionDraftDecisionSchema>;
