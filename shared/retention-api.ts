import { z } from 'zod';
import { checkRecordIdOfType, crmUserIdSchema, objectTypeSchema, recordIdSchema } from './crm-names.ts';

/** A period in days, or null to keep for ever. */
const days = z.number().int().min(1).max(36_500).nullable();

/** How long a workspace keeps each kind of data (issue 21, point 11; docs/retention.md). */
export const retentionPeriodsSchema = z
  .strictObject({
    changeRecordsDays: days.describe('Our change records (before, proposed, decision) of settled changes.'),
    draftsDays: days.describe('Settled drafts (emails, tasks, notes) and their reported outcomes.'),
    webhookPayloadsDays: days.describe(
      'Processed CRM change events as received, and the field history drawn from them.',
    ),
    auditPersonalDataDays: days.describe(
      'Personal values kept apart from audit events; the events stay, showing "[redacted]".',
    ),
  })
  .meta({ id: 'RetentionPeriods' });
export type RetentionPeriodsInput = z.infer<typeof retentionPeriodsSchema>;

const kindCounts = z.strictObject({
  changeRecords: z.number().int(),
  drafts: z.number().int(),
  webhookPayloads: z.number().int(),
  auditPersonalData: z.number().int(),
});

export const retentionViewSchema = z
  .strictObject({
    periods: retentionPeriodsSchema,
    nextRunAt: z.iso.datetime().nullable(),
    /** A run part way through: when it started and what it removed so far. */
    running: z.strictObject({ startedAt: z.iso.datetime(), removed: kindCounts }).nullable(),
  })
  .meta({ id: 'Retention' });
export type RetentionView = z.infer<typeof retentionViewSchema>;

/** One person to erase: their CRM record, their email address, or both. */
export const erasureRequestSchema = z
  .strictObject({
    objectType: objectTypeSchema.optional(),
    recordId: recordIdSchema.optional(),
    email: z.email().max(254).optional(),
    actingUserId: crmUserIdSchema
      .optional()
      .describe(
        'The CRM user asking (an admin); required when the policy puts erasure under dual control, so that person cannot also confirm it.',
      ),
  })
  .refine((request) => (request.objectType === undefined) === (request.recordId === undefined), {
    message: 'objectType and recordId go together',
  })
  .refine((request) => request.recordId !== undefined || request.email !== undefined, {
    message: 'name the person by objectType and recordId, by email, or both',
  })
  .superRefine(checkRecordIdOfType)
  .meta({ id: 'ErasureRequest' });
export type ErasureRequest = z.infer<typeof erasureRequestSchema>;

export const erasureResultSchema = z
  .strictObject({
    erased: z.strictObject({
      auditPersonalData: z.number().int(),
      drafts: z.number().int(),
      changeRecords: z.number().int(),
      fieldHistory: z.number().int(),
    }),
  })
  .meta({ id: 'ErasureResult' });
export type ErasureResult = z.infer<typeof erasureResultSchema>;
