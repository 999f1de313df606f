import { z } from 'zod';
import { actionViewSchema } from './action-api.ts';
import {
  crmOwnerIdSchema,
  crmUserIdSchema,
  objectTypeSchema,
  propertyNameSchema,
  recordIdSchema,
} from './crm-names.ts';
import { associationTargetSchema, evidenceSchema, propertyValueSchema } from './agent-api.ts';
import { reasonCodeSchema } from './reason-codes.ts';
import { safeText } from './safe-text.ts';

/** Mirrors PERSON_ROLES in server/src/domain/approval-lifecycle.ts (shared/ cannot import the server). */
export const PERSON_ROLE_NAMES = ['owner', 'revops_admin', 'approver', 'rep', 'auditor'] as const;
/** `withdrawn`: the change that asked for it was rolled back before anyone decided. */
export const APPROVAL_STATUSES = [
  'pending',
  'approved',
  'applied',
  'rejected',
  'expired',
  'stale',
  'withdrawn',
] as const;

export const setPersonSchema = z
  .strictObject({
    role: z.enum(PERSON_ROLE_NAMES),
    crmOwnerId: crmOwnerIdSchema
      .optional()
      .describe(
        'What records’ owner property names for them: their HubSpot owner id, or on Salesforce their user id; omitted for a rep, looked up in the CRM.',
      ),
  })
  .meta({ id: 'SetPerson' });
export const crmUserIdParamSchema = crmUserIdSchema;

export const personViewSchema = z
  .strictObject({
    crmUserId: safeText,
    role: z.enum(PERSON_ROLE_NAMES),
    crmOwnerId: safeText
      .nullable()
      .describe(
        'Their HubSpot owner id, which records’ hubspot_owner_id names; null when unknown (a rep then owns nothing).',
      ),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Person' });

/** What an approval holds: all held writes of one change set on one record, or one held draft (email, task, note). */
export const APPROVAL_KINDS = ['field_change', 'draft'] as const;
/**
 * Held work the approvals listing also shows (issue 21): a record an agent wants to create, and a
 * link it wants to make between two records. Each is decided on its own route, or in a batch with the others.
 */
export const HELD_ENTRY_KINDS = ['creation', 'association'] as const;
/**
 * The statuses the approvals listing shows: an approval's, and `failed`, held creations' and
 * associations' only: a person approved it and the CRM then refused it for good (its message says
 * why). An approved field change or draft the CRM refuses stays `approved`, retried.
 */
export const LISTING_STATUSES = [...APPROVAL_STATUSES, 'failed'] as const;
export type ListingStatus = (typeof LISTING_STATUSES)[number];

export const approvalListQuerySchema = z.strictObject({
  record: recordIdSchema.optional(),
  batch: safeText
    .min(1)
    .max(200)
    .optional()
    .describe('Drafts belong to no batch: with this, only field changes are listed.'),
  agent: z.uuid().optional(),
  status: z
    .enum(LISTING_STATUSES)
    .optional()
    .describe(
      'A draft’s status in the approvals’ terms (see DraftApproval.status); failed selects held creations and associations only.',
    ),
  kind: z.enum([...APPROVAL_KINDS, ...HELD_ENTRY_KINDS]).optional(),
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
      properties: z
        .array(propertyNameSchema)
        .min(1)
        .max(100)
        .optional()
        .describe('Only these properties; omitted, every pending one.'),
      edits: z
        .record(propertyNameSchema, propertyValueSchema)
        .optional()
        .describe('Values to write instead of the agent’s proposal; both are audited.'),
    }),
    z.strictObject({
      kind: z.literal('reject'),
      actingUserId: crmUserIdSchema,
      properties: z.array(propertyNameSchema).min(1).max(100).optional(),
      reason: safeText.trim().min(1).max(1_000),
    }),
  ])
  .meta({ id: 'ApprovalDecision' });
export type ApprovalDecisionRequest = z.infer<typeof approvalDecisionSchema>;

export const approvalItemViewSchema = z.strictObject({
  property: safeText,
  changeId: z.uuid(),
  before: safeText.nullable(),
  proposed: safeText.nullable(),
  edited: safeText
    .nullable()
    .optional()
    .describe('What a person changed the proposal to, when they did (null: they cleared it).'),
  status: z
    .enum(['pending', 'approved', 'rejected', 'stale', 'expired', 'withdrawn'])
    .describe(
      'The item’s decision; once its approval went stale, expired or was withdrawn, every item not rejected reads so too.',
    ),
  approvedBy: z.array(safeText),
});
export type ApprovalItemView = z.infer<typeof approvalItemViewSchema>;

const approvalTierSchema = z.enum(['approval', 'two_person']);

export const approvalViewSchema = z
  .strictObject({
    id: z.uuid(),
    changeSetId: z.uuid(),
    batchId: safeText,
    agentId: z.uuid(),
    objectType: safeText,
    recordId: safeText,
    policyVersion: z.number().int(),
    tier: approvalTierSchema,
    status: z.enum(APPROVAL_STATUSES),
    expiresAt: z.iso.datetime(),
    recordOwnerId: safeText.nullable(),
    delegatedUserId: safeText.nullable(),
    createdAt: z.iso.datetime(),
    decidedAt: z.iso.datetime().nullable(),
    message: safeText.nullable(),
    items: z.array(approvalItemViewSchema),
  })
  .meta({ id: 'Approval' });
export type ApprovalView = z.infer<typeof approvalViewSchema>;

/** A record's held writes as the approvals listing shows them: the approval as everywhere else, and its kind. */
export const fieldChangeApprovalSchema = approvalViewSchema
  .extend({ kind: z.literal('field_change') })
  .meta({ id: 'FieldChangeApproval' });

/**
 * A held draft as one of the record's approvals: the fields every approval has, its status in
 * the approvals' terms (released or failed to send: approved; created, sent or bounced: applied;
 * stopped by a stop rule: stale), and the draft itself. Decide it with
 * POST /v1/admin/actions/{id}/decisions, or with others in POST /v1/admin/approvals/decisions.
 */
export const draftApprovalSchema = approvalViewSchema
  .pick({
    recordId: true,
    agentId: true,
    policyVersion: true,
    tier: true,
    status: true,
    expiresAt: true,
    recordOwnerId: true,
    delegatedUserId: true,
    createdAt: true,
    decidedAt: true,
    message: true,
  })
  .extend({
    kind: z.literal('draft'),
    id: z.uuid().describe('The draft’s (action’s) id.'),
    objectType: objectTypeSchema,
    draft: actionViewSchema.describe(
      'The draft with its own status (sent, bounced, stopped...), content, edits, approvers and outcomes.',
    ),
  })
  .meta({ id: 'DraftApproval' });
export type DraftApprovalView = z.infer<typeof draftApprovalSchema>;

/** What a held creation and a held association show beside the fields every approval has. */
const heldEntryFields = approvalViewSchema
  .pick({
    changeSetId: true,
    batchId: true,
    agentId: true,
    policyVersion: true,
    tier: true,
    status: true,
    expiresAt: true,
    delegatedUserId: true,
    createdAt: true,
    decidedAt: true,
    message: true,
  })
  .extend({
    id: z.uuid().describe('The entry’s changeId in its change set.'),
    objectType: objectTypeSchema,
    status: z
      .enum(LISTING_STATUSES)
      .describe(
        'In the approvals’ terms: pending; approved (being written, or waiting to be tried again after the CRM failed for now: see message); applied; failed (the CRM refused it for good: see message); rejected; expired.',
      ),
    approvedBy: z.array(safeText).describe('Who approved it so far: two people are needed for two_person.'),
    reasons: z.array(reasonCodeSchema),
    evidence: evidenceSchema,
  });

/** A record an agent wants to create, held for a person (issue 21). Decide it with POST /v1/admin/creations/{id}/decisions. */
export const creationApprovalSchema = heldEntryFields
  .extend({
    kind: z.literal('creation'),
    recordId: safeText.nullable().describe('The created record; null until it is created.'),
    properties: z.record(safeText, safeText.nullable()),
    duplicateOf: safeText
      .nullable()
      .describe('The existing record this one likely duplicates (reason duplicate_of), when it is in the CRM.'),
  })
  .meta({ id: 'CreationApproval' });
export type CreationApprovalView = z.infer<typeof creationApprovalSchema>;

/** A link an agent wants to make between two records, held for a person (issue 21). Decide it with POST /v1/admin/associations/{id}/decisions. */
export const associationApprovalSchema = heldEntryFields
  .extend({
    kind: z.literal('association'),
    recordId: safeText,
    toObjectType: associationTargetSchema,
    toRecordId: safeText,
  })
  .meta({ id: 'AssociationApproval' });
export type AssociationApprovalView = z.infer<typeof associationApprovalSchema>;

export const approvalListingSchema = z
  .discriminatedUnion('kind', [
    fieldChangeApprovalSchema,
    draftApprovalSchema,
    creationApprovalSchema,
    associationApprovalSchema,
  ])
  .meta({ id: 'ApprovalListing' });
export type ApprovalListingView = z.infer<typeof approvalListingSchema>;

/** The most approvals, of every kind together, that one batch decision takes. */
export const BATCH_DECISION_MAX = 1_000;

export const batchApprovalIdsSchema = z
  .array(z.uuid())
  .min(1)
  .max(BATCH_DECISION_MAX)
  .describe(
    'Ids of held field changes, held drafts, held creations and held associations, as the approvals listing gives them, in any mix.',
  );

/**
 * Many approvals decided at once by one person ("all 50 from batch X that I reviewed"): each
 * approval, a held field change, draft, creation or association, transitions on its own, by the
 * same rules as a single decision of its kind; one audit event keeps the manifest. No edits here:
 * an edited value or draft is decided one at a time.
 */
export const batchApprovalDecisionSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('approve'),
      actingUserId: crmUserIdSchema,
      approvalIds: batchApprovalIdsSchema,
      note: safeText.trim().max(1_000).optional(),
    }),
    z.strictObject({
      kind: z.literal('reject'),
      actingUserId: crmUserIdSchema,
      approvalIds: batchApprovalIdsSchema,
      reason: safeText.trim().min(1).max(1_000),
      note: safeText.trim().max(1_000).optional(),
    }),
  ])
  .refine((request) => new Set(request.approvalIds).size === request.approvalIds.length, {
    message: 'names an approval twice',
    path: ['approvalIds'],
  })
  .meta({ id: 'BatchApprovalDecision' });
export type BatchApprovalDecisionRequest = z.infer<typeof batchApprovalDecisionSchema>;

export const batchDecisionResultSchema = z
  .strictObject({
    batchDecisionId: z.uuid(),
    results: z.array(
      z.strictObject({
        approvalId: z.uuid(),
        kind: z
          .enum([...APPROVAL_KINDS, ...HELD_ENTRY_KINDS])
          .nullable()
          .describe('null when no approval in this workspace has the id.'),
        status: z
          .enum(LISTING_STATUSES)
          .nullable()
          .describe('A draft’s, a creation’s or an association’s in the approvals’ terms, as the listing gives it.'),
        refusal: z.strictObject({ code: safeText, message: safeText }).optional(),
      }),
    ),
    summary: z.strictObject({ decided: z.number().int(), refused: z.number().int(), applied: z.number().int() }),
  })
  .meta({ id: 'BatchDecisionResult' });
export type BatchDecisionResult = z.infer<typeof batchDecisionResultSchema>;
