import { z } from 'zod';
import { actionKindSchema, agentRoleSchema } from './crm-names.ts';

export const createAgentSchema = z.strictObject({ name: z.string().trim().min(1).max(100), role: agentRoleSchema }).meta({ id: 'CreateAgent' });

export const agentStatusChangeSchema = z.enum(['pause', 'resume', 'revoke']);

export const createDelegationSchema = z
  .strictObject({
    crmUserId: z.string().regex(/^[0-9]{1,18}$/, 'must be a CRM user id (digits only)'),
    expiresAt: z.iso.datetime({ offset: true }).describe('When the delegation ends; required, delegations never last forever.'),
  })
  .meta({ id: 'CreateDelegation' });

export const killSwitchChangeSchema = z
  .strictObject({
    scope: z.enum(['workspace', 'agent', 'action']),
    target: z.union([z.uuid(), actionKindSchema]).optional().describe('The agent id (scope agent) or action kind (scope action).'),
    engaged: z.boolean(),
    reason: z.string().trim().min(1).max(500),
  })
  .meta({ id: 'KillSwitchChange' });

export const auditExportQuerySchema = z.strictObject({
  format: z.enum(['ndjson', 'csv']).default('ndjson'),
  agent: z.uuid().optional(),
  batch: z.string().min(1).max(200).optional(),
  record: z.string().regex(/^[0-9]{1,18}$/).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

/** Synthetic counts for a kill trigger's drill: what would it do? Nothing is engaged. */
export const killTriggerDrillSchema = z
  .strictObject({
    trigger: z.enum(['bypass_writes', 'write_velocity', 'rejection_rate']),
    agentId: z.uuid().optional().describe('The agent the counts belong to; omitted, bypass writes count as no agent’s.'),
    count: z.number().int().nonnegative().max(10_000_000).describe('Bypass writes, writes in a minute, or (rejection_rate) rejected proposals.'),
    decided: z.number().int().nonnegative().max(10_000_000).optional().describe('rejection_rate only: proposals decided in the batch.'),
    batchId: z.string().min(1).max(200).optional().describe('rejection_rate only: the batch the counts are from.'),
  })
  .refine((drill) => drill.trigger !== 'rejection_rate' || (drill.agentId !== undefined && drill.decided !== undefined && drill.decided >= drill.count), {
    message: 'a rejection_rate drill needs agentId and decided (at least count)',
    path: ['decided'],
  })
  .meta({ id: 'KillTriggerDrill' });

/** A second admin confirming, or either admin cancelling, a change waiting under dual control (issue 5). */
export const governanceDecisionSchema = z.strictObject({ actingUserId: z.string().regex(/^[0-9]{1,18}$/, 'must be a CRM user id (digits only)') }).meta({ id: 'GovernanceDecision' });
export const GOVERNANCE_REQUEST_STATUSES = ['pending', 'confirmed', 'cancelled'] as const;
export const governanceListQuerySchema = z.strictObject({ status: z.enum(GOVERNANCE_REQUEST_STATUSES).optional() });

export const governanceRequestViewSchema = z
  .strictObject({
    id: z.uuid(),
    kind: z.enum(['kill_switch_release', 'policy_publish']),
    status: z.enum(GOVERNANCE_REQUEST_STATUSES),
    reasons: z.array(z.strictObject({ code: z.string(), message: z.string() })).describe('Why a second admin must confirm (kill_switch_release, tier_lowered, cap_raised, dual_control_weakened).'),
    payload: z.unknown().describe('The change as asked for: the kill switch change or the policy document.'),
    requestedBy: z.string(),
    requestedAt: z.iso.datetime(),
    decidedBy: z.string().nullable(),
    decidedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'GovernanceRequest' });
export type GovernanceRequestView = z.infer<typeof governanceRequestViewSchema>;
