import { z } from 'zod';
import {
  crmOfObjectType,
  checkRecordIdsOfType,
  crmUserIdSchema,
  objectTypeSchema,
  propertyNameSchema,
  recordIdProblem,
  recordIdSchema,
} from './crm-names.ts';
import { tierSchema } from './policy.ts';
import { reasonCodeSchema } from './reason-codes.ts';
import { freeJson, isSafeText, safeText, text, UNSAFE_TEXT_MESSAGE } from './safe-text.ts';

/** Limits that keep one submission inside one request's budget; larger batches are split by the agent. */
export const MAX_RECORDS_PER_CHANGE_SET = 10_000;
export const MAX_PROPERTIES_PER_RECORD = 100;

/** What lets a person replay why the agent acted. `source` and `reason` are required. */
/** An amount an agent spent (issue 21's budgets), in one currency (ISO 4217, upper case). */
export const costSchema = z.strictObject({
  amount: z.number().min(0).max(1_000_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code such as USD'),
});
export type Cost = z.infer<typeof costSchema>;

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
    cost: costSchema
      .optional()
      .describe(
        'What the agent spent to come up with it (an enrichment lookup, a model call); counted against the policy’s spend budgets.',
      ),
    signal: text(2_000).optional(),
    runId: text(200).optional(),
    promptHash: text(200)
      .optional()
      .describe(
        'The agent’s declared prompt version (a hash of its prompt): a new one holds the agent’s writes until a person accepts it.',
      ),
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
  operation: z.literal('update').optional().describe('Omitted or "update": a change to an existing record.'),
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

/** Asks to create a record of the change set's object type (issue 21); the pinned shape has no recordId. */
export const recordCreateSchema = z
  .strictObject({
    operation: z.literal('create'),
    properties: recordChangeSchema.shape.properties,
    evidence: evidenceSchema,
  })
  .meta({ id: 'RecordCreate' });
export type RecordCreate = z.infer<typeof recordCreateSchema>;
export type RecordChange = z.infer<typeof recordChangeSchema>;

/** What a record may be associated with (issue 21): a contact with its company, a deal with its company or contacts. */
export const ASSOCIATION_TARGETS = ['companies', 'contacts', 'deals'] as const;
export const associationTargetSchema = z.enum(ASSOCIATION_TARGETS, {
  error: (issue) => `toObjectType must be one of ${ASSOCIATION_TARGETS.join(', ')}; got ${JSON.stringify(issue.input)}`,
});
export type AssociationTarget = z.infer<typeof associationTargetSchema>;

/** Asks to associate an existing record of the change set's object type with another record (issue 21). */
export const recordAssociateSchema = z
  .strictObject({
    operation: z.literal('associate'),
    recordId: recordIdSchema,
    toObjectType: associationTargetSchema,
    toRecordId: recordIdSchema,
    evidence: evidenceSchema,
  })
  .meta({ id: 'RecordAssociate' });
export type RecordAssociate = z.infer<typeof recordAssociateSchema>;

type ChangeEntry = RecordChange | RecordCreate | RecordAssociate;

export function isCreate(change: ChangeEntry): change is RecordCreate {
  return change.operation === 'create';
}

export function isAssociate(change: ChangeEntry): change is RecordAssociate {
  return change.operation === 'associate';
}

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
    changes: z
      // Told apart by `operation`, so a bad entry is refused with its own schema's words.
      .array(z.discriminatedUnion('operation', [recordChangeSchema, recordCreateSchema, recordAssociateSchema]))
      .min(1)
      .max(MAX_RECORDS_PER_CHANGE_SET)
      .describe(
        'Changes to existing records, entries with "operation": "create", or with "operation": "associate"; one change set holds one kind.',
      ),
  })
  .superRefine((request, ctx) => {
    const seen = new Set<string>();
    const creates = request.changes.filter(isCreate).length;
    const associations = request.changes.filter(isAssociate).length;
    if (creates > 0 && creates < request.changes.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['changes'],
        message: 'mixes creations and updates; send the records to create in a change set of their own',
      });
    } else if (associations > 0 && associations < request.changes.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['changes'],
        message: 'mixes associations and updates; send the associations in a change set of their own',
      });
    }
    if (associations > 0 && crmOfObjectType(request.objectType) !== 'hubspot') {
      // A Salesforce record's link is a lookup field (a contact's AccountId): an update, governed as one.
      ctx.addIssue({
        code: 'custom',
        path: ['objectType'],
        message: `${request.objectType} records are not associated through a change set; set their lookup field as an update`,
      });
      return;
    }
    request.changes.forEach((change, index) => {
      if (isCreate(change)) return;
      if (isAssociate(change)) {
        checkAssociation(request.objectType, change, index, seen, ctx);
        return;
      }
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

function checkAssociation(
  objectType: string,
  change: RecordAssociate,
  index: number,
  seen: Set<string>,
  ctx: z.RefinementCtx,
): void {
  const idProblem =
    recordIdProblem(objectType, change.recordId) ?? recordIdProblem(change.toObjectType, change.toRecordId);
  if (idProblem !== null) ctx.addIssue({ code: 'custom', path: ['changes', index], message: idProblem });
  if (change.toObjectType === objectType)
    ctx.addIssue({
      code: 'custom',
      path: ['changes', index, 'toObjectType'],
      message: `associates ${objectType} with ${objectType}; associations link records of two different types`,
    });
  const pair = `${change.recordId}>${change.toObjectType}:${change.toRecordId}`;
  if (seen.has(pair))
    ctx.addIssue({
      code: 'custom',
      path: ['changes', index],
      message: `record ${change.recordId} is associated with ${change.toObjectType} ${change.toRecordId} twice`,
    });
  seen.add(pair);
}

export type ChangeSetRequest = z.infer<typeof changeSetRequestSchema>;
/** A change set whose entries all update existing records. */
export type UpdateChangeSetRequest = Omit<ChangeSetRequest, 'changes'> & { changes: RecordChange[] };
/** A change set whose entries all associate records. */
export type AssociateChangeSetRequest = Omit<ChangeSetRequest, 'changes'> & { changes: RecordAssociate[] };
/** A change set whose entries all create records. */
export type CreateChangeSetRequest = Omit<ChangeSetRequest, 'changes'> & { changes: RecordCreate[] };

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
    beforeShownAs: z
      .enum(['masked', 'withheld'])
      .optional()
      .describe(
        'Set when the policy’s read rules do not let this agent read the property in full: `before` is masked as a governed read masks it, or withheld (null).',
      ),
    proposed: safeText.nullable(),
    message: safeText.optional().describe('The CRM’s own words when a write failed.'),
  })
  .meta({ id: 'ChangeResult' });
export type ChangeResult = z.infer<typeof changeResultSchema>;

/** One per creation entry, in the order sent; `recordId` is the new record's once it is created. */
export const createResultSchema = z
  .strictObject({
    changeId: z.uuid(),
    operation: z.literal('create'),
    recordId: safeText.nullable().describe('The created record; null until it is created.'),
    properties: z.record(safeText, safeText.nullable()),
    decision: decisionSchema,
    tier: tierSchema.nullable(),
    reasons: z.array(reasonCodeSchema),
    duplicateOf: safeText
      .optional()
      .describe('The existing record this one likely duplicates (reason duplicate_of), when it is in the CRM.'),
    message: safeText.optional(),
  })
  .meta({ id: 'CreateResult' });
export type CreateResult = z.infer<typeof createResultSchema>;

/** One per association entry, in the order sent (issue 21). */
export const associateResultSchema = z
  .strictObject({
    changeId: z.uuid(),
    operation: z.literal('associate'),
    recordId: safeText,
    toObjectType: associationTargetSchema,
    toRecordId: safeText,
    decision: decisionSchema,
    tier: tierSchema.nullable(),
    reasons: z.array(reasonCodeSchema),
    message: safeText.optional(),
  })
  .meta({ id: 'AssociateResult' });
export type AssociateResult = z.infer<typeof associateResultSchema>;

/** A person's decision on a held creation (issue 21): approve creates the record, reject refuses it. */
export const creationDecisionSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('approve'),
      actingUserId: crmUserIdSchema,
    }),
    z.strictObject({
      kind: z.literal('reject'),
      actingUserId: crmUserIdSchema,
      reason: safeText.trim().min(1).max(1_000),
    }),
  ])
  .meta({ id: 'CreationDecision' });
export type CreationDecision = z.infer<typeof creationDecisionSchema>;

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
    results: z.array(z.union([changeResultSchema, createResultSchema, associateResultSchema])),
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

/** Governed reads (issue 21): what an agent may see of up to 100 records, as the policy lets its role read them. */
export const MAX_RECORDS_PER_READ = 100;
export const recordReadRequestSchema = z
  .strictObject({
    objectType: objectTypeSchema,
    recordIds: z.array(recordIdSchema).min(1).max(MAX_RECORDS_PER_READ),
    properties: z
      .array(propertyNameSchema)
      .min(1)
      .max(MAX_PROPERTIES_PER_RECORD)
      .optional()
      .describe('Only these; omitted, every property the policy lets the role read.'),
  })
  .superRefine(checkRecordIdsOfType)
  .meta({ id: 'RecordReadRequest' });
export type RecordReadRequest = z.infer<typeof recordReadRequestSchema>;

export const recordReadResponseSchema = z
  .strictObject({
    objectType: objectTypeSchema,
    policyVersion: z.number().int(),
    records: z.array(
      z.strictObject({
        recordId: safeText,
        properties: z.record(safeText, safeText.nullable()),
        masked: z.array(safeText).describe('Properties whose values are masked (for example j***@acme.com).'),
      }),
    ),
    withheld: z.array(safeText).describe('Asked-for properties the policy does not let this role read.'),
    missing: z.array(safeText).describe('Record ids the CRM does not have.'),
  })
  .meta({ id: 'RecordReadResponse' });
export type RecordReadResponse = z.infer<typeof recordReadResponseSchema>;
