import { z } from 'zod';
import { propertyNameSchema } from './crm-names.ts';
import { propertyValueSchema } from './agent-api.ts';

/** Mirrors PERSON_ROLES in server/src/domain/approval-lifecycle.ts (shared/ cannot import the server). */
export const PERSON_ROLE_NAMES = ['owner', 'revops_admin', 'approver', 'rep', 'auditor'] as const;
/** `withdrawn`: the change that asked for it was rolled back before anyone decided. */
export const APPROVAL_STATUSES = ['pending', 'approved', 'applied', 'rejected', 'expired', 'stale', 'withdrawn'] as const;

const crmUserIdSchema = z.string().regex(/^[0-9]{1,18}$/, 'must be a CRM user id (digits only)');

export const setPersonSchema = z
  .strictObject({
    role: z.enum(PERSON_ROLE_NAMES),
    crmOwnerId: z.string().regex(/^[0-9]{1,18}$/, 'must be a HubSpot owner id (digits only)').optional().describe('Their HubSpot owner id; omitted for a rep, looked up in HubSpot.'),
  })
  .meta({ id: 'SetPerson' });
export const crmUserIdParamSchema = crmUserIdSchema;

export const approvalListQuerySchema = z.strictObject({
  record: z.string().regex(/^[0-9]{1,18}$/).optional(),
  batch: z.string().min(1).max(200).optional(),
  agent: z.uuid().optional(),
  status: z.enum(APPROVAL_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/**
 * Until issue 8 signs these requests through HubSpot, the admin token vouches for the call and
 * `actingUserId` names the person deciding; their role is looked up in `people`, never sent.
 */
export const approvalDecisionSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('approve'),
      actingUserId: crmUserIdSchema,
      properties: z.array(propertyNameSchema).min(1).max(100).optional().describe('Only these properties; omitted, every pending one.'),
      edits: z.record(propertyNameSchema, propertyValueSchema).optional().describe('Values to write instead of the agent’s proposal; both are audited.'),
    }),
    z.strictObject({
      kind: z.literal('reject'),
      actingUserId: crmUserIdSchema,
      properties: z.array(propertyNameSchema).min(1).max(100).optional(),
      reason: z.string().trim().min(1).max(1_000),
    }),
  ])
  .meta({ id: 'ApprovalDecision' });
export type ApprovalDecisionRequest = z.infer<typeof approvalDecisionSchema>;

export interface ApprovalItemView {
  property: string;
  changeId: string;
  before: string | null;
  proposed: string | null;
  edited?: string | null;
  status: 'pending' | 'approved' | 'rejected';
  approvedBy: string[];
}

export interface ApprovalView {
  id: string;
  changeSetId: string;
  batchId: string;
  agentId: string;
  objectType: string;
  recordId: string;
  policyVersion: number;
  tier: 'approval' | 'two_person';
  status: (typeof APPROVAL_STATUSES)[number];
  expiresAt: string;
  recordOwnerId: string | null;
  delegatedUserId: string | null;
  createdAt: string;
  decidedAt: string | null;
  message: string | null;
  items: ApprovalItemView[];
}

/**
 * Many approvals decided at once by one person ("all 50 from batch X that I reviewed"): each
 * approval transitions on its own, by the same rules as a single decision; one audit event
 * keeps the manifest. No edits here: an edited value is decided one approval at a time.
 */
export const batchApprovalDecisionSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('approve'), actingUserId: crmUserIdSchema, approvalIds: z.array(z.uuid()).min(1).max(1_000), note: z.string().trim().max(1_000).optional() }),
    z.strictObject({
      kind: z.literal('reject'),
      actingUserId: crmUserIdSchema,
      approvalIds: z.array(z.uuid()).min(1).max(1_000),
      reason: z.string().trim().min(1).max(1_000),
      note: z.string().trim().max(1_000).optional(),
    }),
  ])
  .refine((request) => new Set(request.approvalIds).size === request.approvalIds.length, { message: 'names an approval twice', path: ['approvalIds'] })
  .meta({ id: 'BatchApprovalDecision' });
export type BatchApprovalDecisionRequest = z.infer<typeof batchApprovalDecisionSchema>;

export interface BatchDecisionResult {
  batchDecisionId: string;
  results: { approvalId: string; status: (typeof APPROVAL_STATUSES)[number] | null; refusal?: { code: string; message: string } }[];
  summary: { decided: number; refused: number; applied: number };
}
