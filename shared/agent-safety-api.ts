import { z } from 'zod';
import { actionRequestSchema } from './action-api.ts';
import { recordChangeSchema } from './agent-api.ts';
import { objectTypeSchema, propertyNameSchema, recordIdProblem } from './crm-names.ts';
import { tierSchema } from './policy.ts';
import { reasonCodeSchema } from './reason-codes.ts';
import { safeText, text } from './safe-text.ts';

/** Cases one agent's regression set may hold: enough for every rule that matters, quick to run on each release. */
export const MAX_REGRESSION_CASES = 200;

/** The decision a case must get: this tier, with at least these reason codes among its reasons. */
const expectedDecisionSchema = z.strictObject({
  tier: tierSchema,
  reasons: z.array(reasonCodeSchema).max(50).default([]),
});

/**
 * One case of an agent's regression set (issue 21): an input as the agent would send it (a change
 * entry of a change set, or a draft) and the decision expected of it under the policy in force.
 * A change case may give the record's current values (`current`) that conditions look at.
 */
export const regressionCaseSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('change'),
      name: text(200),
      objectType: objectTypeSchema,
      change: recordChangeSchema,
      current: z.record(propertyNameSchema, safeText.max(65_536).nullable()).optional(),
      expected: expectedDecisionSchema,
    }),
    z.strictObject({
      kind: z.literal('draft'),
      name: text(200),
      draft: actionRequestSchema,
      expected: expectedDecisionSchema,
    }),
  ])
  .superRefine((regressionCase, ctx) => {
    if (regressionCase.kind !== 'change') return;
    const problem = recordIdProblem(regressionCase.objectType, regressionCase.change.recordId);
    if (problem !== null) ctx.addIssue({ code: 'custom', path: ['change', 'recordId'], message: problem });
  })
  .meta({ id: 'RegressionCase' });
export type RegressionCase = z.infer<typeof regressionCaseSchema>;

export const regressionSetSchema = z
  .strictObject({
    cases: z
      .array(regressionCaseSchema)
      .max(MAX_REGRESSION_CASES)
      .refine((cases) => new Set(cases.map((c) => c.name)).size === cases.length, 'must name each case once'),
  })
  .meta({ id: 'RegressionSet' });
export type RegressionSet = z.infer<typeof regressionSetSchema>;

const decisionSchema = z.strictObject({ tier: tierSchema, reasons: z.array(reasonCodeSchema) });

export const regressionRunSchema = z
  .strictObject({
    agentId: z.uuid(),
    policyVersion: z.number().int().positive(),
    passed: z.boolean().describe('Every case got its expected decision and no recent submission failed.'),
    cases: z.array(
      z.strictObject({
        name: safeText,
        passed: z.boolean(),
        expected: decisionSchema,
        /** One decision per field of a change case (in the order of its properties), one for a draft. */
        actual: z.array(decisionSchema.extend({ property: safeText.optional() })),
      }),
    ),
    recent: z.strictObject({
      lookbackHours: z.number().positive(),
      replayed: z
        .number()
        .int()
        .nonnegative()
        .describe('Field writes of the agent in the lookback that people rejected, decided again.'),
      failures: z
        .array(
          z.strictObject({
            changeSetId: z.uuid(),
            recordId: safeText,
            property: safeText,
            proposedValue: safeText.nullable(),
            actual: decisionSchema,
          }),
        )
        .describe('Writes people rejected that the policy in force would now apply without asking.'),
    }),
    failures: z.array(safeText).describe('One sentence per failure, as a release refused for them names them.'),
  })
  .meta({ id: 'RegressionRun' });
export type RegressionRun = z.infer<typeof regressionRunSchema>;

export const CHANGE_GATES = ['prompt', 'volume'] as const;

export const agentSafetyViewSchema = z
  .strictObject({
    agentId: z.uuid(),
    safeModeUntil: z.iso
      .datetime()
      .nullable()
      .describe('Set after a release from a kill trigger; safe mode ends then.'),
    inSafeMode: z.boolean(),
    acceptedPromptHash: safeText.nullable(),
    pendingPromptHash: safeText.nullable().describe('A prompt hash seen since the accepted one: it holds writes.'),
    volume: z.strictObject({
      today: z.number().int().nonnegative(),
      trailingAverage: z.number().nonnegative(),
      jumped: z.boolean(),
      acceptedToday: z.boolean(),
    }),
    holds: z
      .array(reasonCodeSchema)
      .describe('Why the agent’s `auto` writes are held now (safe_mode, prompt_changed, volume_jump).'),
    regressionCases: z.number().int().nonnegative(),
  })
  .meta({ id: 'AgentSafety' });
export type AgentSafetyView = z.infer<typeof agentSafetyViewSchema>;

export const changeAcceptanceSchema = z
  .strictObject({
    gate: z.enum(CHANGE_GATES).describe('prompt: accept the pending prompt hash; volume: accept today’s volume.'),
    reason: safeText.trim().min(1).max(500),
  })
  .meta({ id: 'ChangeAcceptance' });
export type ChangeAcceptance = z.infer<typeof changeAcceptanceSchema>;
