import { z } from 'zod';
import type { Policy } from './policy.ts';

/**
 * The web console's Settings and Overview (issue 19), under /console/api. Settings reuse the
 * HubSpot settings page's schemas and answers (shared/extension-api.ts, shared/admin-api.ts);
 * what only the console has is here.
 */

/** How many days the Overview's charts cover, ending today (UTC). */
export const overviewQuerySchema = z.strictObject({
  days: z.coerce.number().int().min(1).max(90).default(30),
});
export type OverviewQuery = z.infer<typeof overviewQuerySchema>;

/** One published policy version whole, for the side-by-side diff of two versions. */
export interface PolicyVersionView {
  version: number;
  publishedBy: string;
  createdAt: string;
  policy: Policy;
}

export interface OverviewView {
  /** From this instant (the start of the first day, UTC) to now. */
  since: string;
  /** Field changes per day (UTC, YYYY-MM-DD) by the policy's decision. */
  decisionsPerDay: { day: string; applied: number; pending_approval: number; denied: number; failed: number }[];
  /** Per agent: approvals people decided and rejected; QA reviews done and found wrong. */
  agents: {
    agentId: string;
    name: string;
    decided: number;
    rejected: number;
    rejectionRate: number | null;
    qaReviewed: number;
    qaWrong: number;
    qaErrorRate: number | null;
  }[];
  /** Properties agents' applied writes changed most. */
  topProperties: { objectType: string; property: string; applied: number }[];
  /** Writes seen in the CRM that did not come through governance, per day. */
  bypassWritesPerDay: { day: string; count: number }[];
  /** Kill switches a trigger engaged (bypass writes, write velocity, rejection rate), newest first. */
  killTriggerEvents: { seq: number; occurredAt: string; scope: string; target: string | null; reason: string }[];
}
