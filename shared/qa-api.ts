import { z } from 'zod';
import { crmUserIdSchema } from './crm-names.ts';
import { safeText } from './safe-text.ts';

export const QA_STATUSES = ['open', 'correct', 'wrong'] as const;

export const qaListQuerySchema = z.strictObject({
  status: z.enum(QA_STATUSES).optional(),
  agent: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** A person's verdict on a sampled auto write; `wrong` reverts it through a rollback of that one change. */
export const qaVerdictSchema = z
  .strictObject({
    actingUserId: crmUserIdSchema,
    verdict: z.enum(['correct', 'wrong']),
    note: safeText.trim().max(1_000).optional(),
  })
  .meta({ id: 'QaVerdict' });
export type QaVerdictRequest = z.infer<typeof qaVerdictSchema>;

export const qaReviewViewSchema = z
  .strictObject({
    id: z.uuid(),
    changeId: z.uuid(),
    changeSetId: z.uuid(),
    agentId: z.uuid(),
    objectType: safeText,
    recordId: safeText,
    property: safeText,
    before: safeText.nullable(),
    applied: safeText.nullable().describe('The value the agent wrote, live in the CRM.'),
    status: z.enum(QA_STATUSES),
    sampledAt: z.iso.datetime(),
    reviewedBy: safeText.nullable(),
    reviewedAt: z.iso.datetime().nullable(),
    note: safeText.nullable(),
    rollbackId: z.uuid().nullable().describe('The rollback a `wrong` verdict started.'),
  })
  .meta({ id: 'QaReview' });
export type QaReviewView = z.infer<typeof qaReviewViewSchema>;

export const agentErrorRateSchema = z
  .strictObject({
    agentId: z.uuid(),
    agentName: safeText,
    open: z.number().int(),
    correct: z.number().int(),
    wrong: z.number().int(),
    errorRate: z.number().nullable().describe('wrong / (correct + wrong); null until something was reviewed.'),
  })
  .meta({ id: 'AgentErrorRate' });
export type AgentErrorRate = z.infer<typeof agentErrorRateSchema>;
