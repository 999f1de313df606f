import { z } from 'zod';
import { recordIdSchema } from './crm-names.ts';
import { safeText } from './safe-text.ts';

const instant = z.iso.datetime({ offset: true });

/**
 * Which applied changes to undo (issue 7). Every given part must match (they compose: an agent
 * within a time range, a batch on some records); at least one of batch, agent, changes or
 * records is required so a rollback never means "everything".
 */
export const rollbackSelectorSchema = z
  .strictObject({
    batchId: safeText.min(1).max(200).optional(),
    agentId: z.uuid().optional(),
    since: instant.optional().describe('Changes made at or after this instant.'),
    until: instant.optional().describe('Changes made before this instant.'),
    changeIds: z.array(z.uuid()).min(1).max(10_000).optional(),
    recordIds: z.array(recordIdSchema).min(1).max(10_000).optional(),
  })
  .refine(
    (s) => s.batchId !== undefined || s.agentId !== undefined || s.changeIds !== undefined || s.recordIds !== undefined,
    {
      message: 'needs a batchId, agentId, changeIds or recordIds (since and until only narrow one of those)',
    },
  )
  .refine((s) => s.since === undefined || s.until === undefined || Date.parse(s.since) < Date.parse(s.until), {
    message: 'since must be before until',
  })
  .meta({ id: 'RollbackSelector' });
export type RollbackSelector = z.infer<typeof rollbackSelectorSchema>;

export const createRollbackSchema = z
  .strictObject({
    selector: rollbackSelectorSchema,
    dryRun: z.boolean().default(false).describe('Plan and count only; nothing is written or stored.'),
    force: z.boolean().default(false).describe('Revert conflicts too, overwriting later edits by others. Audited.'),
  })
  .meta({ id: 'CreateRollback' });
export type CreateRollbackRequest = z.infer<typeof createRollbackSchema>;

export const rollbackReportQuerySchema = z.strictObject({ format: z.enum(['json', 'csv']).default('json') });

const conflictSchema = z
  .object({
    cause: z
      .enum([
        'changed_since',
        'value_differs',
        'record_missing',
        'restore_value_not_as_audited',
        'restore_value_unverifiable',
      ])
      .describe(
        'restore_value_not_as_audited: the value to restore is not the value before the change as the audit trail recorded it (value); restore_value_unverifiable: the trail no longer holds that value (erased, or never recorded). Neither is written, even with force.',
      ),
    origin: z.enum(['person', 'agent', 'workflow', 'import', 'integration', 'system', 'unknown']),
    who: safeText.nullable(),
    at: instant.nullable(),
    value: safeText.nullable(),
  })
  .meta({ id: 'RollbackConflict' });

export const rollbackItemSchema = z
  .object({
    objectType: safeText,
    recordId: safeText,
    property: safeText,
    /** Dry run: the CRM's value now. Run: the value found right before writing, or the batch's value if never read. */
    before: safeText.nullable(),
    restoreValue: safeText.nullable(),
    outcome: z.enum(['revert', 'reverted', 'conflict', 'already_reverted', 'failed', 'pending']),
    forced: z.boolean(),
    explanation: safeText.nullable(),
    conflict: conflictSchema.nullable(),
    changeIds: z
      .array(z.uuid())
      .optional()
      .describe(
        'A run’s report: the selected changes this item undoes; a change-id selector with force reverts this item alone.',
      ),
  })
  .meta({ id: 'RollbackItem' });
export type RollbackItemView = z.infer<typeof rollbackItemSchema>;

export const rollbackPlanSchema = z
  .object({
    dryRun: z.literal(true),
    selector: rollbackSelectorSchema,
    force: z.boolean(),
    total: z.number().int(),
    counts: z.object({
      revert: z.number().int(),
      conflict: z.number().int(),
      alreadyReverted: z.number().int(),
      failed: z.number().int(),
    }),
    sample: z.array(rollbackItemSchema).describe('Up to 10 items of each outcome.'),
  })
  .meta({ id: 'RollbackPlan' });
export type RollbackPlan = z.infer<typeof rollbackPlanSchema>;

export const rollbackSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(['running', 'paused', 'completed']),
    statusReason: safeText.nullable(),
    selector: rollbackSelectorSchema,
    force: z.boolean(),
    total: z.number().int(),
    done: z.number().int(),
    counts: z.object({
      reverted: z.number().int(),
      conflict: z.number().int(),
      alreadyReverted: z.number().int(),
      failed: z.number().int(),
    }),
    createdRecords: z
      .object({ archived: z.number().int(), conflict: z.number().int() })
      .describe('Records the selection created: archived, or left as a conflict because someone changed them since.'),
    associations: z
      .object({ removed: z.number().int(), conflict: z.number().int() })
      .describe(
        'Links the selection made (issue 21): removed, or left as a conflict because someone removed them since.',
      ),
    /** The rollback's own writes, one change set per object type: roll them back with `batchId` = this rollback's id. */
    changeSetIds: z.record(safeText, z.uuid()),
    createdAt: instant,
    completedAt: instant.nullable(),
  })
  .meta({ id: 'Rollback' });
export type RollbackView = z.infer<typeof rollbackSchema>;
