import { z } from 'zod';
import {
  actionKindSchema,
  AGENT_STATUSES,
  agentRoleSchema,
  checkRecordIdOfType,
  crmUserIdSchema,
  objectTypeSchema,
  recordIdSchema,
  recordRefSchema,
  type AgentStatus,
} from './crm-names.ts';
import { KILL_SWITCH_SCOPES, segmentConditionSchema } from './kill-switch.ts';
import { policySchema } from './policy.ts';
import { salesforceConnectionSchema } from './salesforce-connection.ts';
import { safeText } from './safe-text.ts';

export const createAgentSchema = z
  .strictObject({ name: safeText.trim().min(1).max(100), role: agentRoleSchema })
  .meta({ id: 'CreateAgent' });

export const agentStatusChangeSchema = z.enum(['pause', 'resume', 'revoke']);
/** The status each action leaves an agent in. */
export const AGENT_STATUS_AFTER = { pause: 'paused', resume: 'active', revoke: 'revoked' } as const satisfies Record<
  z.infer<typeof agentStatusChangeSchema>,
  AgentStatus
>;

export const agentViewSchema = z
  .strictObject({
    id: z.uuid(),
    name: safeText,
    role: agentRoleSchema,
    status: z.enum(AGENT_STATUSES),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Agent' });
export type AgentView = z.infer<typeof agentViewSchema>;
export const createdAgentSchema = agentViewSchema
  .extend({ token: safeText.describe('The agent’s bearer token, shown this once: only its hash is stored.') })
  .meta({ id: 'CreatedAgent' });
export type CreatedAgent = z.infer<typeof createdAgentSchema>;

export const createDelegationSchema = z
  .strictObject({
    crmUserId: crmUserIdSchema,
    expiresAt: z.iso
      .datetime({ offset: true })
      .describe('When the delegation ends; required, delegations never last forever.'),
  })
  .meta({ id: 'CreateDelegation' });
export const delegationViewSchema = z
  .strictObject({
    id: z.uuid(),
    agentId: z.uuid(),
    crmUserId: safeText,
    expiresAt: z.iso.datetime(),
    revokedAt: z.iso
      .datetime()
      .optional()
      .describe('When someone ended the delegation before it expired; absent while it is in force.'),
  })
  .meta({ id: 'Delegation' });
export type DelegationView = z.infer<typeof delegationViewSchema>;

export const killSwitchChangeSchema = z
  .strictObject({
    scope: z.enum(KILL_SWITCH_SCOPES),
    target: z
      .union([z.uuid(), actionKindSchema, safeText.trim().min(1).max(500)])
      .optional()
      .describe(
        'The agent id (scope agent), action kind (action), `list:<CRM list id>` (segment by list), recipient domain (recipient_domain), template family (template) or evidence source (evidence_source); none for the workspace, or for a segment given by `condition`.',
      ),
    condition: segmentConditionSchema
      .optional()
      .describe('A segment by record condition (scope segment): the records it matches when read.'),
    engaged: z.boolean(),
    reason: safeText.trim().min(1).max(500),
    force: z
      .boolean()
      .optional()
      .describe(
        'Release an agent a kill trigger stopped although its regression set fails; owners only, audited with the failures.',
      ),
  })
  .meta({ id: 'KillSwitchChange' });

export const killSwitchViewSchema = z
  .strictObject({
    scope: killSwitchChangeSchema.shape.scope,
    target: safeText
      .nullable()
      .describe(
        'The agent id, action kind, segment (`list:<id>` or `record:<condition>`), domain, template family or evidence source; null for the workspace switch.',
      ),
    condition: segmentConditionSchema.nullable().optional().describe('A segment by record condition: the condition.'),
    engaged: z.boolean(),
    reason: safeText,
    changedBy: safeText,
    changedAt: z.iso.datetime(),
    notUnderstood: safeText
      .optional()
      .describe(
        'Set on a stored row this server does not understand (a scope or action kind it does not know, a segment whose list or condition does not parse, as a database edit or a newer version may leave): why, and that while engaged it stops every agent and action in the workspace. Its scope and target are given as stored.',
      ),
  })
  .meta({ id: 'KillSwitch' });
export type KillSwitchView = z.infer<typeof killSwitchViewSchema>;

export const auditExportQuerySchema = z.strictObject({
  format: z.enum(['ndjson', 'csv']).default('ndjson'),
  agent: z.uuid().optional(),
  batch: safeText.min(1).max(200).optional(),
  record: recordIdSchema.optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

const chainBreakSchema = z.strictObject({
  seq: z.number().int().describe('The first event that does not hold.'),
  problem: z.enum(['altered', 'missing', 'relinked', 'truncated', 'inserted', 'renumbered']),
  movedTo: z.number().int().optional().describe('renumbered: the seq the event is stored at now.'),
  message: safeText,
});

export const checkpointPublicKeySchema = safeText.regex(
  /^[A-Za-z0-9+/]{43}=$/,
  'must be an Ed25519 public key: base64 of 32 bytes',
);

/** One line of the checkpoint file, as the server signs it (issue 17). */
export const auditCheckpointSchema = z
  .strictObject({
    version: z.literal(1),
    workspaceId: z.uuid(),
    seq: z.number().int().positive().describe('The chain held this many events when it was signed.'),
    hash: safeText.regex(/^[0-9a-f]{64}$/).describe('The hash of event `seq`.'),
    time: z.iso.datetime(),
    keyId: safeText.regex(/^[0-9a-f]{16}$/).describe('The first 16 hex digits of the SHA-256 of the public key.'),
    publicKey: checkpointPublicKeySchema,
    signature: safeText.regex(/^[A-Za-z0-9+/]{86}==$/, 'must be an Ed25519 signature: base64 of 64 bytes'),
  })
  .meta({ id: 'AuditCheckpoint' });

export const auditVerifyRequestSchema = z
  .strictObject({
    checkpoints: z
      .array(auditCheckpointSchema)
      .max(10_000)
      .describe('The checkpoint file’s lines, each parsed; other workspaces’ lines are skipped.'),
    publicKeys: z
      .array(checkpointPublicKeySchema)
      .max(10)
      .optional()
      .describe(
        'Keys to trust besides this server’s own checkpoint key (an earlier key, or when the server has none).',
      ),
  })
  .meta({ id: 'AuditVerifyRequest' });

const checkpointBreakSchema = z.strictObject({
  seq: z.number().int().describe('The first checkpoint the database contradicts.'),
  time: safeText,
  problem: z.enum(['bad_signature', 'untrusted_key', 'truncated', 'missing', 'contradicted']),
  message: safeText,
});
const checkpointReportSchema = z
  .strictObject({
    checked: z.number().int().describe('Checkpoints of this workspace checked.'),
    latestSeq: z
      .number()
      .int()
      .nullable()
      .describe('The newest checkpoint’s seq: events after it are only as safe as the database.'),
    firstBadCheckpoint: checkpointBreakSchema.optional(),
  })
  .optional()
  .describe('Only when checkpoints were given.');

export const auditVerificationSchema = z
  .discriminatedUnion('ok', [
    z.strictObject({ ok: z.literal(true), events: z.number().int(), checkpoints: checkpointReportSchema }),
    z.strictObject({
      ok: z.literal(false),
      events: z.number().int(),
      firstBadEvent: chainBreakSchema.optional(),
      checkpoints: checkpointReportSchema,
    }),
  ])
  .meta({ id: 'AuditVerification' });
export type AuditVerification = z.infer<typeof auditVerificationSchema>;

export const bootstrapResultSchema = z
  .strictObject({
    objects: z.array(
      z.strictObject({
        objectType: objectTypeSchema,
        groupCreated: z.boolean(),
        created: z.array(safeText).describe('Properties this run created.'),
        existing: z.array(safeText).describe('Properties the account already had.'),
      }),
    ),
    approvalObject: z
      .strictObject({
        objectTypeId: safeText.describe('Copy it into hs.config.json.'),
        created: z.boolean(),
      })
      .describe("The first CRM's approval object."),
    approvalObjects: z
      .array(
        z.strictObject({
          crm: z.enum(['hubspot', 'salesforce']),
          objectTypeId: safeText.describe("A HubSpot portal's: copy it into hs.config.json."),
          created: z.boolean(),
        }),
      )
      .describe('The approval object in each connected CRM, the first first.'),
  })
  .meta({ id: 'BootstrapResult' });
export type BootstrapResult = z.infer<typeof bootstrapResultSchema>;

/**
 * A workspace's connection to its other CRM (issue 20): a HubSpot portal and its private app's
 * token (checked with one call unless `verifyToken` is false), or a Salesforce org's External
 * Client App (signed in once). The same credentials `workspace add` takes for that CRM.
 */
export const connectCrmSchema = z
  .discriminatedUnion(
    'crm',
    [
      z.strictObject({
        crm: z.literal('hubspot'),
        hubspotPortalId: safeText.regex(/^[0-9]{1,18}$/, 'must be the HubSpot portal (account) id, digits only'),
        hubspotToken: safeText.min(1),
        hubspotClientSecret: safeText.min(1).optional().describe('The app secret its webhooks are signed with.'),
        verifyToken: z.boolean().default(true),
      }),
      z.strictObject({ crm: z.literal('salesforce'), connection: salesforceConnectionSchema }),
    ],
    {
      error: (issue) =>
        `crm must be hubspot or salesforce; got ${JSON.stringify((issue.input as { crm?: unknown })?.crm)}`,
    },
  )
  .meta({ id: 'CrmConnectionRequest' });
export type ConnectCrmInput = z.input<typeof connectCrmSchema>;

/** The CRM of a connection, as `DELETE /v1/admin/workspace/connections/{crm}` names it. */
export const crmParamSchema = z.enum(['hubspot', 'salesforce'], {
  error: (issue) => `must be hubspot or salesforce; got ${JSON.stringify(issue.input)}`,
});

/** A connection as answered: which CRM and account, never a credential. */
export const crmConnectionViewSchema = z
  .strictObject({
    workspaceId: z.uuid(),
    crm: z.enum(['hubspot', 'salesforce']),
    accountId: safeText.describe('The HubSpot portal id, or the Salesforce org id.'),
  })
  .meta({ id: 'CrmConnection' });
export type CrmConnectionView = z.infer<typeof crmConnectionViewSchema>;

export const policyVersionSchema = z
  .strictObject({ version: z.number().int().positive(), publishedBy: safeText, createdAt: z.iso.datetime() })
  .meta({ id: 'PolicyVersion' });
export type PolicyVersion = z.infer<typeof policyVersionSchema>;
export const POLICY_WARNING_CODES = ['unknown_property'] as const;
/**
 * Something a published policy names that the CRM does not have yet (a typo, or a property the
 * portal gains later): published all the same, since the CRM may gain it, but its rule matches nothing until then.
 */
export const policyWarningSchema = z
  .strictObject({
    code: z.enum(POLICY_WARNING_CODES),
    objectType: objectTypeSchema,
    property: safeText,
    message: safeText.describe('A sentence saying what is wrong and what it means.'),
  })
  .meta({ id: 'PolicyWarning' });
export type PolicyWarning = z.infer<typeof policyWarningSchema>;
/** `warnings` is present only when there is something to warn about and the CRM could be asked. */
export const publishedPolicySchema = z
  .strictObject({ version: z.number().int().positive(), warnings: z.array(policyWarningSchema).optional() })
  .meta({ id: 'PublishedPolicy' });
export type PublishedPolicy = z.infer<typeof publishedPolicySchema>;
/** The newest version is the one in force. */
export const activePolicySchema = z
  .strictObject({ version: z.number().int().positive(), policy: policySchema })
  .meta({ id: 'ActivePolicy' });
export type ActivePolicy = z.infer<typeof activePolicySchema>;

/** Synthetic counts for a kill trigger's drill: what would it do? Nothing is engaged. */
export const killTriggerDrillSchema = z
  .strictObject({
    trigger: z.enum(['bypass_writes', 'write_velocity', 'rejection_rate']),
    agentId: z
      .uuid()
      .optional()
      .describe('The agent the counts belong to; omitted, bypass writes count as no agent’s.'),
    count: z
      .number()
      .int()
      .nonnegative()
      .max(10_000_000)
      .describe('Bypass writes, writes in a minute, or (rejection_rate) rejected proposals.'),
    decided: z
      .number()
      .int()
      .nonnegative()
      .max(10_000_000)
      .optional()
      .describe('rejection_rate only: proposals decided in the batch.'),
    batchId: safeText.min(1).max(200).optional().describe('rejection_rate only: the batch the counts are from.'),
  })
  .refine(
    (drill) =>
      drill.trigger !== 'rejection_rate' ||
      (drill.agentId !== undefined && drill.decided !== undefined && drill.decided >= drill.count),
    {
      message: 'a rejection_rate drill needs agentId and decided (at least count)',
      path: ['decided'],
    },
  )
  .meta({ id: 'KillTriggerDrill' });

// The drill answers with the trigger's settings as the policy holds them, so they come from the policy's schema.
const killTriggerSettings = policySchema.shape.monitoring.unwrap().shape.killTriggers.unwrap().shape;
export const killTriggerDrillResultSchema = z
  .strictObject({
    trigger: killTriggerDrillSchema.shape.trigger,
    policyVersion: z.number().int().positive(),
    configured: z
      .union([
        killTriggerSettings.bypassWrites.unwrap(),
        killTriggerSettings.writeVelocity.unwrap(),
        killTriggerSettings.rejectionRate.unwrap(),
      ])
      .nullable()
      .describe(
        'The trigger’s settings in the active policy; null when the policy sets none, and then nothing would engage.',
      ),
    observed: z.number().int(),
    wouldEngage: z.array(
      z.strictObject({ scope: z.enum(['agent', 'workspace']), target: safeText.nullable(), reason: safeText }),
    ),
    engaged: z.literal(false).describe('A drill never engages a switch.'),
  })
  .meta({ id: 'KillTriggerDrillResult' });
export type KillTriggerDrillResult = z.infer<typeof killTriggerDrillResultSchema>;

/** A second admin confirming, or either admin cancelling, a change waiting under dual control (issue 5). */
export const governanceDecisionSchema = z
  .strictObject({ actingUserId: crmUserIdSchema })
  .meta({ id: 'GovernanceDecision' });
export const GOVERNANCE_REQUEST_STATUSES = ['pending', 'confirmed', 'cancelled'] as const;
export const governanceListQuerySchema = z.strictObject({ status: z.enum(GOVERNANCE_REQUEST_STATUSES).optional() });

export const governanceRequestViewSchema = z
  .strictObject({
    id: z.uuid(),
    kind: z.enum(['kill_switch_release', 'policy_publish', 'erasure']),
    status: z.enum(GOVERNANCE_REQUEST_STATUSES),
    reasons: z
      .array(z.strictObject({ code: safeText, message: safeText }))
      .describe(
        'Why a second admin must confirm (kill_switch_release, tier_lowered, cap_raised, dual_control_weakened, erasure).',
      ),
    payload: z
      .unknown()
      .describe(
        'The change as asked for: the kill switch change, the policy document, or the person to erase (their email only until the request is settled).',
      ),
    requestedBy: safeText,
    requestedAt: z.iso.datetime(),
    decidedBy: safeText.nullable(),
    decidedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'GovernanceRequest' });
export type GovernanceRequestView = z.infer<typeof governanceRequestViewSchema>;

/** A record a quarantine marked for review (issue 21), until a person clears it or a rollback covers it. */
export const recordReviewViewSchema = z
  .strictObject({
    id: z.uuid(),
    objectType: safeText,
    recordId: safeText,
    agentId: z.uuid().describe('The agent whose stop quarantined the record.'),
    reason: safeText.describe('Why the agent was stopped: the kill switch’s reason.'),
    markedAt: z.iso.datetime(),
    markedInCrm: z.boolean().describe('Whether the CRM’s ag_needs_review property is set on it yet.'),
  })
  .meta({ id: 'RecordReview' });
export type RecordReviewView = z.infer<typeof recordReviewViewSchema>;

export const recordReviewQuerySchema = z
  .strictObject({
    objectType: objectTypeSchema.optional(),
    recordId: recordIdSchema.optional(),
  })
  .superRefine(checkRecordIdOfType);

export const clearRecordReviewSchema = recordRefSchema.meta({ id: 'ClearRecordReview' });
