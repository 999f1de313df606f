import { z } from 'zod';

const crmUserIdSchema = z.string().regex(/^[0-9]{1,18}$/, 'must be a CRM user id (digits only)');

export const QA_STATUSES = ['open', 'correct', 'wrong'] as const;

export const qaListQuerySchema = z.strictObject({
  status: z.enum(QA_STATUSES).optional(),
  agent: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** A person's verdict on a sampled auto write; `wrong` reverts it through a rollback of that one change. */
export const qaVerdictSchema = z
  .strictObject({ actingUserId: crmUserIdSchema, verdict: z.enum(['correct', 'wrong']), note: z.string().trim().max(1_000).optional() })
  .meta({ id: 'QaVerdict' });
export type QaVerdictRequest = z.infer<typeof qaVerdictSchema>;

export interface QaReviewView {
  id: string;
  changeId: string;
  changeSetId: string;
  agentId: string;
  objectType: string;
  recordId: string;
  property: string;
  before: string | null;
  applied: string | null;
  status: (typeof QA_STATUSES)[number];
  sampledAt: string;
  reviewedBy: string | null;
  reviewedAt: string | null;
  note: string | null;
  rollbackId: string | null;
}

export interface AgentErrorRate {
  agentId: string;
  agentName: string;
  open: number;
  correct: number;
  wrong: number;
  /** wrong / (correct + wrong); null until something was reviewed. */
  errorRate: number | null;
}
