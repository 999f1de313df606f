import { z } from 'zod';
import { evidenceSchema } from './agent-api.ts';
import { checkRecordIdOfType, crmUserIdSchema, objectTypeSchema, recordIdSchema } from './crm-names.ts';
import { tierSchema } from './policy.ts';
import { reasonCodeSchema } from './reason-codes.ts';
import { safeText, text } from './safe-text.ts';

/**
 * Drafts (issue 5): an agent's non-field action on one record. The policy decides it per agent
 * role and action kind; stop rules (opt-out, do-not-contact, a reply or an unsubscribe) refuse
 * an email before any policy is asked.
 */

const templateSchema = text(200)
  .optional()
  .describe(
    'The template family the draft was made from, as the agent names it; a template kill switch stops the family.',
  );

const onBehalfOfSchema = z
  .strictObject({ crmUserId: crmUserIdSchema })
  .optional()
  .describe('The person the agent acts for; needs an unexpired delegation.');

export const TASK_PRIORITIES = ['LOW', 'MEDIUM', 'HIGH'] as const;

export const emailContentSchema = z.strictObject({
  to: z.email().max(254).describe('The recipient: the contact’s email address.'),
  // One header line: a line break would let a released subject carry headers of its own (a Bcc to
  // someone no stop rule checked) into the sending service's message.
  subject: text(998).regex(/^[^\r\n]*$/, 'must be one line, without line breaks (CR or LF)'),
  body: text(100_000),
});
export const taskContentSchema = z.strictObject({
  subject: text(500),
  body: text(65_536).optional(),
  dueAt: z.iso.datetime({ offset: true }).optional().describe('When the task is due; the CRM’s task timestamp.'),
  priority: z.enum(TASK_PRIORITIES).optional(),
});
export const noteContentSchema = z.strictObject({ body: text(65_536) });

/**
 * What an approver may edit in each kind of draft (never an email's recipient, whose opt-out was
 * checked), within the bounds the agent's draft was held to: a task's subject stays within 500
 * characters, not an email's 998.
 */
export const draftEditSchemas = {
  send_email: emailContentSchema.pick({ subject: true, body: true }).partial(),
  create_task: taskContentSchema.pick({ subject: true, body: true }).partial(),
  create_note: noteContentSchema.partial(),
} as const;

export type EmailContent = z.infer<typeof emailContentSchema>;
export type TaskContent = z.infer<typeof taskContentSchema>;
export type NoteContent = z.infer<typeof noteContentSchema>;
export type ActionContent = EmailContent | TaskContent | NoteContent;

export const actionRequestSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('send_email'),
      // The stop rules read the recipient's opt-out on the contact record, so an email is on a contact.
      objectType: z.enum(['contacts', 'salesforce:Contact']),
      recordId: recordIdSchema,
      onBehalfOf: onBehalfOfSchema,
      evidence: evidenceSchema,
      template: templateSchema,
      ...emailContentSchema.shape,
    }),
    z.strictObject({
      kind: z.literal('create_task'),
      objectType: objectTypeSchema,
      recordId: recordIdSchema,
      onBehalfOf: onBehalfOfSchema,
      evidence: evidenceSchema,
      template: templateSchema,
      ...taskContentSchema.shape,
    }),
    z.strictObject({
      kind: z.literal('create_note'),
      objectType: objectTypeSchema,
      recordId: recordIdSchema,
      onBehalfOf: onBehalfOfSchema,
      evidence: evidenceSchema,
      template: templateSchema,
      ...noteContentSchema.shape,
    }),
  ])
  .superRefine(checkRecordIdOfType)
  .meta({ id: 'ActionRequest' });
export type ActionRequest = z.infer<typeof actionRequestSchema>;

export const ACTION_STATUS_NAMES = [
  'refused',
  'pending',
  'released',
  'completed',
  'sent',
  'bounced',
  'failed',
  'rejected',
  'expired',
  'stopped',
] as const;
/** `complained`: the recipient marked the email as spam (issue 21); like an unsubscribe, it stops every agent emailing them. */
export const OUTCOME_NAMES = ['sent', 'bounced', 'failed', 'replied', 'unsubscribed', 'complained'] as const;
/** Delivery outcomes end a released email and need its release token; replies and unsubscribes come later. */
export const DELIVERY_OUTCOMES = [
  'sent',
  'bounced',
  'failed',
] as const satisfies readonly (typeof OUTCOME_NAMES)[number][];

const contentViewSchema = z
  .record(safeText, safeText)
  .describe('The fields of the action (to, subject, body, dueAt, priority), as strings.');

export const actionOutcomeViewSchema = z.strictObject({
  outcome: z.enum(OUTCOME_NAMES),
  providerMessageId: safeText.nullable(),
  detail: safeText.nullable(),
  crmNoteId: safeText.nullable().describe('The note that logged it on the record’s timeline.'),
  reportedAt: z.iso.datetime(),
});

export const actionViewSchema = z
  .strictObject({
    id: z.uuid(),
    kind: z.enum(['send_email', 'create_task', 'create_note']),
    objectType: objectTypeSchema,
    recordId: safeText,
    agentId: z.uuid(),
    policyVersion: z.number().int(),
    tier: tierSchema.nullable(),
    status: z.enum(ACTION_STATUS_NAMES),
    reasons: z.array(reasonCodeSchema),
    proposed: contentViewSchema.describe('What the agent proposed.'),
    edited: contentViewSchema.nullable().describe('What a person changed it to before approving, if they did.'),
    approvedBy: z.array(safeText),
    expiresAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    decidedAt: z.iso.datetime().nullable(),
    releasedAt: z.iso.datetime().nullable(),
    contentHash: safeText
      .nullable()
      .describe('SHA-256 (hex) of the released content as canonical JSON; the release token vouches for it.'),
    crmObjectId: safeText.nullable().describe('The task or note this server created in the CRM.'),
    message: safeText.nullable(),
    outcomes: z.array(actionOutcomeViewSchema),
    released: contentViewSchema
      .optional()
      .describe('What to send: the edited version if a person edited it. Only to the agent, once released.'),
    releaseToken: safeText
      .optional()
      .describe(
        'Proof that people approved exactly `released`; check it with POST /v1/actions/{id}/verify. Only to the agent, once released.',
      ),
  })
  .meta({ id: 'Action' });
export type ActionView = z.infer<typeof actionViewSchema>;

export const releaseTokenSchema = safeText.min(1).max(200);

export const actionOutcomeRequestSchema = z
  .strictObject({
    outcome: z.enum(OUTCOME_NAMES),
    providerMessageId: text(500).optional().describe('The email provider’s message id.'),
    detail: text(2_000).optional().describe('The bounce or failure reason, in the provider’s words.'),
    bounceType: z
      .enum(['hard', 'soft'])
      .optional()
      .describe(
        'For bounced: a hard bounce stops every agent emailing the contact again (issue 21); soft or omitted does not.',
      ),
    releaseToken: releaseTokenSchema.optional().describe('Required for sent, bounced and failed.'),
  })
  .superRefine((request, ctx) => {
    if (request.bounceType !== undefined && request.outcome !== 'bounced')
      ctx.addIssue({ code: 'custom', path: ['bounceType'], message: 'is only for a bounced outcome' });
    if ((DELIVERY_OUTCOMES as readonly string[]).includes(request.outcome) && request.releaseToken === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['releaseToken'],
        message: `is required to report ${request.outcome}: it proves the draft was released`,
      });
    }
  })
  .meta({ id: 'ActionOutcome' });
export type ActionOutcomeRequest = z.infer<typeof actionOutcomeRequestSchema>;

export const verifyReleaseRequestSchema = z
  .strictObject({ releaseToken: releaseTokenSchema })
  .meta({ id: 'VerifyRelease' });

export const verifyReleaseResponseSchema = z
  .strictObject({
    valid: z.boolean(),
    actionId: z.uuid(),
    contentHash: safeText.optional(),
    approvedBy: z.array(safeText).optional(),
    releasedAt: z.iso.datetime().optional(),
  })
  .meta({ id: 'VerifyReleaseResult' });
export type VerifyReleaseResponse = z.infer<typeof verifyReleaseResponseSchema>;

export const actionDecisionSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('approve'),
      actingUserId: crmUserIdSchema,
      edits: z
        .strictObject({ subject: text(998).optional(), body: text(100_000).optional() })
        .refine(
          (edits) => edits.subject !== undefined || edits.body !== undefined,
          'must change the subject or the body',
        )
        .optional()
        .describe('A new subject or body; both versions are kept and audited.'),
    }),
    z.strictObject({ kind: z.literal('reject'), actingUserId: crmUserIdSchema, reason: text(1_000) }),
  ])
  .meta({ id: 'ActionDecision' });
export type ActionDecisionRequest = z.infer<typeof actionDecisionSchema>;

export const actionListQuerySchema = z.strictObject({
  record: recordIdSchema.optional(),
  agent: z.uuid().optional(),
  status: z.enum(ACTION_STATUS_NAMES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
