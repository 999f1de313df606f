import { z } from 'zod';
import { actionDecisionSchema } from './action-api.ts';
import { checkRecordIdsOfType, objectTypeSchema, recordIdSchema, type ObjectType } from './crm-names.ts';
import type { Caller, EngagedKillSwitch } from './extension-api.ts';
import { safeText } from './safe-text.ts';

/**
 * Decisions the HubSpot app takes beyond one approval (issue 8): a held draft from the record
 * card, and every pending approval (held field changes and held drafts) of the records selected
 * on an index page (the bulk action).
 * As everywhere in the app, who decides comes from HubSpot's signature, never from the body.
 */

const [approveDraft, rejectDraft] = actionDecisionSchema.options;

/** Approve (optionally after editing the subject or body) or reject with a reason, as the admin API's draft decision without `actingUserId`. */
export const extensionDraftDecisionSchema = z.discriminatedUnion('kind', [
  approveDraft.omit({ actingUserId: true }),
  rejectDraft.omit({ actingUserId: true }),
]);
export type ExtensionDraftDecision = z.infer<typeof extensionDraftDecisionSchema>;

/** An index page shows at most 100 rows; a person selecting across pages can send more, up to this. */
export const BULK_RECORDS_MAX = 500;

export const bulkSelectionSchema = z
  .strictObject({ objectType: objectTypeSchema, recordIds: z.array(recordIdSchema).min(1).max(BULK_RECORDS_MAX) })
  .refine((selection) => new Set(selection.recordIds).size === selection.recordIds.length, {
    message: 'names a record twice',
    path: ['recordIds'],
  })
  .superRefine(checkRecordIdsOfType);
export type BulkSelection = z.infer<typeof bulkSelectionSchema>;

/** The preview's `seen`: the decision is refused if what waits changed since (none given: whatever waits now). */
const seenSchema = safeText.max(100).optional();

export const bulkDecisionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('approve'), selection: bulkSelectionSchema, seen: seenSchema }),
  z.strictObject({
    kind: z.literal('reject'),
    selection: bulkSelectionSchema,
    reason: safeText.trim().min(1).max(1_000),
    seen: seenSchema,
  }),
]);
export type BulkDecision = z.infer<typeof bulkDecisionSchema>;

/** What the selected records have waiting, before anyone decides. */
export interface BulkPreview {
  caller: Caller;
  objectType: ObjectType;
  selectedRecords: number;
  /** Selected records with at least one pending approval. */
  recordsWithPending: number;
  pending: number;
  /** Of `pending`, how many are held drafts (an email, task or note) rather than held field changes. */
  drafts: number;
  /**
   * Of `pending`, how many are held links from or to the selected records and held new records
   * likely duplicating one (issue 21), as their cards list them; absent from a server that does not include them.
   */
  heldEntries?: number;
  /** More approvals wait than one decision takes (`pending` counts only that many): select fewer records. */
  overLimit: boolean;
  /** Of `pending`, how many this caller may decide; the rest would be refused one by one. */
  decidable: number;
  killSwitches: EngagedKillSwitch[];
  /**
   * Names exactly what waits (a digest of the pending ids): the decision sends it back and is
   * refused (409 `pending_changed`) when proposals came or went since the person looked.
   */
  seen?: string;
}
