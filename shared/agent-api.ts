import { z } from 'zod';
import { crmUserIdSchema, objectTypeSchema, propertyNameSchema, recordIdProblem, recordIdSchema } from './crm-names.ts';
import { tierSchema } from './policy.ts';
import { reasonCodeSchema } from './reason-codes.ts';
import { freeJson, isSafeText, safeText, text, UNSAFE_TEXT_MESSAGE } from './safe-text.ts';

/** Limits that keep one submission inside one request's budget; larger batches are split by the agent. */
export const MAX_RECORDS_PER_CHANGE_SET = 10_000;
export const MAX_PROPERTIES_PER_RECORD = 100;

/** What lets a person replay why the agent acted. `source` and `reason` are required. */
export const evidenceSchema = z
  .strictObject({
    source: text(200).describe('Where the value came from (a provider, a page, a tool).'),
    url: z
      .url({ protocol: /^https?$/ })
      .max(2_000)
      .refine(isSafeText, UNSAFE_TEXT_MESSAGE)
      .optional()
      .describe('A link a person can open to check the value.'),
    confidence: z.number().min(0).max(1).optional().describe('The agent’s confidence in the value, 0 to 1.'),
    reason: text(2_000).describe('Why the agent proposes the change, in a sentence.'),
    signal: text(2_000).optional(),
    runId: text(200).optional(),
    model: text(200).optional(),
    promptVersion: text(200).optional(),
    toolCalls: z
      .array(z.strictObject({ name: text(200), input: freeJson.optional(), output: freeJson.optional() }))
      .max(50)
      .optional(),
  })
  .meta({ id: 'Evidence' });
export type Evidence = z.infer<typeof evidenceSchema>;

export const propertyValueSchema = z
  .union([safeText.max(65_536), z.number().finite(), z.boolean(), z.null()], {
    error: 'must be a string, a number, a boolean or null',
  })
  .describe('The proposed value; null clears the property.');
export type PropertyValue = z.infer<typeof propertyValueSchema>;

export const recordChangeSchema = z.strictObject({
  recordId: recordIdSchema,
  properties: z
    .record(propertyNameSchema, propertyValueSchema)
    .refine((properties) => Object.keys(properties).length > 0, 'must name at least one property')
    .refine(
      (properties) => Object.keys(properties).length <= MAX_PROPERTIES_PER_RECORD,
      `must name at most ${MAX_PROPERTIES_PER_RECORD} properties`,
    ),
  evidence: evidenceSchema,
});

export const changeSetRequestSchema = z
  .strictObject({
    batchId: text(200).describe('The agent’s batch (for example one enrichment run); rollback selects by it.'),
    objectType: objectTypeSchema,
    onBehalfOf: z
      .strictObject({
        crmUserId: crmUserIdSchema,
      })
      .optional()
      .describe('The person the agent acts for; needs an unexpired delegation.'),
    changes: z.array(recordChangeSchema).min(1).max(MAX_RECORDS_PER_CHANGE_SET),
  })
  .superRefine((request, ctx) => {
    const seen = new Set<string>();
    request.changes.forEach((change, index) => {
      const idProblem = recordIdProblem(request.objectType, change.recordId);
      if (idProblem !== null)
        ctx.addIssue({ code: 'custom', path: ['changes', index, 'recordId'], message: idProblem });
      if (seen.has(change.recordId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['changes', index, 'recordId'],
          message: `record ${change.recordId} appears twice; put all its properties in one change`,
        });
      }
      seen.add(change.recordId);
    });
  })
  .meta({ id: 'ChangeSetRequest' });
export type ChangeSetRequest = z.infer<typeof changeSetRequestSchema>;

/** `applying` is seen only while a change set's writes are in flight (a GET during submission). */
export const DECISIONS = ['applied', 'pending_approval', 'denied', 'failed', 'applying'] as const;
export const decisionSchema = z.enum(DECISIONS);
export type Decision = z.infer<typeof decisionSchema>;

export const changeResultSchema = z
  .strictObject({
    changeId: z.uuid(),
    recordId: safeText,
    property: safeText,
    decision: decisionSchema,
    tier: tierSchema.nullable(),
    reasons: z.array(reasonCodeSchema),
    before: safeText.nullable().describe('The CRM value when the change set was decided.'),
    proposed: safeText.nullable(),
    message: safeText.optional().describe('The CRM’s own words when a write failed.'),
  })
  .meta({ id: 'ChangeResult' });
export type ChangeResult = z.infer<typeof changeResultSchema>;

export const changeSetResponseSchema = z
  .strictObject({
    id: z.uuid(),
    batchId: safeText,
    objectType: objectTypeSchema,
    agentId: z.uuid(),
    policyVersion: z.number().int(),
    status: z.enum(['applying', 'completed']),
    createdAt: z.iso.datetime(),
    summary: z.strictObject({
      applied: z.number().int(),
      pending_approval: z.number().int(),
      denied: z.number().int(),
      failed: z.number().int(),
      applying: z.number().int(),
    }),
    results: z.array(changeResultSchema),
  })
  .meta({ id: 'ChangeSetResponse' });
export type ChangeSetResponse = z.infer<typeof changeSetResponseSchema>;

export const errorResponseSchema = z
  .strictObject({
    error: z.strictObject({
      code: safeText.describe('A stable machine code, e.g. VALIDATION_FAILED, KILL_SWITCH_ENGAGED.'),
      message: safeText.describe('A sentence a person understands.'),
      requestId: safeText.optional(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });
