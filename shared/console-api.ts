import { z } from 'zod';
import { crmUserIdSchema, propertyNameSchema, recordIdSchema } from './crm-names.ts';
import { actionViewSchema } from './action-api.ts';
import { batchApprovalIdsSchema } from './approval-api.ts';
import type {
  AuditSearchResult,
  Caller,
  EngagedKillSwitch,
  HomeView,
  PendingApprovalCard,
  PendingDraft,
  PendingRecordEntry,
} from './extension-api.ts';
import { safeText } from './safe-text.ts';

/**
 * The web console's API (issue 19), under /console/api, called by console/ with a session cookie.
 * Decisions, the card, batches, audit search and rollbacks answer with the HubSpot app's shapes
 * (shared/extension-api.ts), so the card and the console show the same thing.
 */

/** Every state-changing console call carries this header: a cross-site form cannot set it (CSRF). */
export const CONSOLE_REQUEST_HEADER = 'x-console-request';

/** The path of the one-time link; `next` (optional) is a console path to land on. */
export const SIGN_IN_PATH = '/sign-in';

export const signInQuerySchema = z.strictObject({
  token: safeText.min(1).max(200),
  next: safeText.max(2_000).optional(),
});

/** Who a new sign-in link is for (by default the workspace's highest-ranked person); admin API and CLI alike. */
export const consoleLinkRequestSchema = z
  .strictObject({
    crmUserId: crmUserIdSchema.optional(),
  })
  .meta({ id: 'ConsoleLinkRequest' });

export const consoleLinkSchema = z
  .object({
    url: z.string().describe('Opens the console signed in; works once.'),
    crmUserId: z.string(),
    role: z.string(),
    expiresAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'ConsoleLink' });
export type ConsoleLinkView = z.infer<typeof consoleLinkSchema>;

export const inboxQuerySchema = z.strictObject({
  agent: z.uuid().optional(),
  batch: safeText.min(1).max(200).optional(),
  record: recordIdSchema.optional(),
  property: propertyNameSchema.optional(),
  /** Only what has waited at least this long. */
  olderThanMinutes: z.coerce.number().int().min(0).max(525_600).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The keyset cursor: the previous page's `next`. */
  cursor: safeText.max(200).optional(),
  /** The held drafts' own keyset cursor: the previous answer's `draftsNext` (on the field changes' first page). */
  draftCursor: safeText.max(200).optional(),
});
export type InboxQuery = z.infer<typeof inboxQuerySchema>;

export const batchesQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: safeText.max(300).optional(),
});

const instant = z.iso.datetime({ offset: true });

/** The console's audit search and export: every filter composes; `before` is the keyset cursor (a seq). */
const auditFilterFields = {
  batch: safeText.min(1).max(200).optional(),
  record: recordIdSchema.optional(),
  agent: z.uuid().optional(),
  person: crmUserIdSchema.optional(),
  type: safeText
    .regex(/^[a-z_]+(\.[a-z_]+)*$/, 'must be an action kind such as approval.decided')
    .max(100)
    .optional(),
  from: instant.optional(),
  to: instant.optional(),
};
export const consoleAuditQuerySchema = z.strictObject({
  ...auditFilterFields,
  before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ConsoleAuditQuery = z.infer<typeof consoleAuditQuerySchema>;
export const consoleAuditExportQuerySchema = z.strictObject({
  ...auditFilterFields,
  format: z.enum(['ndjson', 'csv']).default('ndjson'),
});

/** Many approvals decided at once from the inbox, after the person saw the manifest; who decides is the session's person. */
export const consoleBatchDecisionSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('approve'), approvalIds: batchApprovalIdsSchema }),
    z.strictObject({
      kind: z.literal('reject'),
      approvalIds: batchApprovalIdsSchema,
      reason: safeText.trim().min(1).max(1_000),
    }),
  ])
  .refine((request) => new Set(request.approvalIds).size === request.approvalIds.length, {
    message: 'names an approval twice',
    path: ['approvalIds'],
  });

/** A page and the cursor of the next one (null on the last page). */
export type ConsoleAuditPage = AuditSearchResult & { next: number | null };
export type BatchesPage = HomeView & { next: string | null };

/** An audit event's place in its workspace's chain. */
export const auditSeqParamSchema = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export interface SessionView {
  workspace: { id: string; name: string };
  caller: Caller;
}

export interface InboxView {
  caller: Caller;
  killSwitches: EngagedKillSwitch[];
  items: PendingApprovalCard[];
  /**
   * Held emails, tasks and notes with their record, on the field changes' first page, newest first,
   * `limit` at a time; drafts belong to no batch, so a batch filter leaves none.
   */
  drafts: (PendingDraft & { objectType: string; recordId: string; createdAt: string })[];
  /** The cursor of the drafts' next page (give it as `draftCursor`), null on their last page. */
  draftsNext: string | null;
  /** Held record creations and associations (issue 21), on the first page as drafts are; none under a property filter. */
  heldEntries: PendingRecordEntry[];
  /** The next page's cursor, null on the last page; drafts and held entries come on the first page only. */
  next: string | null;
  /**
   * On the first page: what people approved in the last day that was not written as they meant,
   * newest decision first. A decision answers before its write (the write follows behind), so this is
   * where a person learns that the record had changed (`stale`, nothing was overwritten) or that
   * the CRM refused or could not be reached (`failed`, tried again later).
   */
  unwritten: UnwrittenApproval[];
  /** The workspace's agents by name, on every page: the agent filter picks one by name and sends its id. */
  agents: { id: string; name: string }[];
}

export interface UnwrittenApproval {
  approvalId: string;
  objectType: string;
  recordId: string;
  batchId: string;
  agentName: string;
  /** The values the approval meant to write (an edited value where a person edited it). */
  values: Record<string, string | null>;
  decidedBy: string[];
  decidedAt: string;
  outcome: 'stale' | 'failed';
  message: string | null;
}

/** The server-sent event the inbox listens to: something in the workspace changed, read the page again. */
export const INBOX_CHANGED_EVENT = 'inbox-changed';

/** The one-time link a person opens; the server, its CLI and the demo print it the same way. */
export function signInUrl(serverUrl: string, token: string): string {
  // Trailing slashes counted off from the end: `/\/+$/` tried every start of a run of slashes to
  // its end, and the server's URL can be the request's Host.
  let end = serverUrl.length;
  while (end > 0 && serverUrl[end - 1] === '/') end--;
  return `${serverUrl.slice(0, end)}${SIGN_IN_PATH}?token=${encodeURIComponent(token)}`;
}

/** One audit event whole, as the log keeps it (values and evidence as the agent or the CRM gave them). */
export const auditEventViewSchema = z.object({
  seq: z.number().int(),
  occurredAt: z.iso.datetime({ offset: true }),
  type: z.string(),
  actor: z.unknown(),
  agentId: z.string().nullable(),
  batchId: z.string().nullable(),
  changeSetId: z.string().nullable(),
  objectType: z.string().nullable(),
  recordId: z.string().nullable(),
  property: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
  evidence: z.unknown(),
  reasons: z.array(z.string()),
  policyVersion: z.number().int().nullable(),
  data: z.unknown(),
  hash: z.string(),
});
export type AuditEventView = z.infer<typeof auditEventViewSchema>;

/**
 * The agent's evidence for one write or draft, field by field (agent-supplied text: render it as
 * text). `from` says where it was read: the event itself, the change set's stored record (events
 * after the decision carry none), or the draft.
 */
export const auditEvidenceViewSchema = z.object({
  from: z.enum(['event', 'change_set', 'draft']),
  source: z.string().nullable(),
  url: z.string().nullable(),
  reason: z.string().nullable(),
  confidence: z.number().nullable(),
  signal: z.string().nullable(),
  runId: z.string().nullable(),
  model: z.string().nullable(),
  promptVersion: z.string().nullable(),
  promptHash: z.string().nullable(),
  toolCalls: z.array(z.object({ name: z.string(), input: z.unknown(), output: z.unknown() })),
});
export type AuditEvidenceView = z.infer<typeof auditEvidenceViewSchema>;

/** Who did something, read from the audit event's actor. */
export const auditActorViewSchema = z.object({
  type: z.string(),
  name: z.string(),
  crmUserId: z.string().nullable(),
  role: z.string().nullable(),
  via: z.string().nullable(),
});
export type AuditActorView = z.infer<typeof auditActorViewSchema>;

/** One person's decision as the log recorded it: who, when, from where, what they changed first. */
export const auditDecisionViewSchema = z.object({
  seq: z.number().int(),
  at: z.iso.datetime({ offset: true }),
  by: auditActorViewSchema,
  kind: z.enum(['approve', 'reject']),
  /** The properties (field changes) or content fields (drafts) this decision covered or edited. */
  edits: z.record(z.string(), z.object({ proposed: z.string().nullable(), edited: z.string().nullable() })).nullable(),
  reason: z.string().nullable(),
});
export type AuditDecisionView = z.infer<typeof auditDecisionViewSchema>;

/** An approval that held the write: its state now, each property as proposed and as edited, and each decision on it. */
export const auditApprovalViewSchema = z.object({
  approvalId: z.string(),
  tier: z.string(),
  status: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
  expiresAt: z.iso.datetime({ offset: true }),
  decidedAt: z.iso.datetime({ offset: true }).nullable(),
  decidedBy: z.array(z.string()),
  message: z.string().nullable(),
  items: z.array(
    z.object({
      property: z.string(),
      before: z.string().nullable(),
      proposed: z.string().nullable(),
      edited: z.boolean(),
      editedValue: z.string().nullable(),
      status: z.string(),
      approvedBy: z.array(z.string()),
    }),
  ),
  decisions: z.array(auditDecisionViewSchema),
});
export type AuditApprovalView = z.infer<typeof auditApprovalViewSchema>;

/** The events that report what the CRM did with a write or a draft: written, refused, stale, sent, bounced. */
export const auditReportViewSchema = z.object({
  seq: z.number().int(),
  type: z.string(),
  occurredAt: z.iso.datetime({ offset: true }),
  message: z.string().nullable(),
});

/**
 * One action reconstructed: the event, and every event on the same record in the same batch
 * (decision, approvals, CRM result); and, joined from the change set's stored record (issue 19):
 * the agent's evidence when the event carries none, the policy version it was decided under, the
 * approvals that held it and what the CRM did with each property. The last four are null or
 * empty for an event on no change set's record.
 */
export const auditActionViewSchema = z.object({
  event: auditEventViewSchema,
  story: z.array(auditEventViewSchema),
  evidence: auditEvidenceViewSchema.nullable(),
  policyVersion: z.number().int().nullable(),
  approvals: z.array(auditApprovalViewSchema),
  crmResult: z
    .object({
      /** Each property's change as the change set keeps it: `applied` is in the CRM; `failed` carries the CRM's message. */
      writes: z.array(
        z.object({
          property: z.string(),
          before: z.string().nullable(),
          proposed: z.string().nullable(),
          decision: z.string(),
          reasons: z.array(z.string()),
          message: z.string().nullable(),
        }),
      ),
      reports: z.array(auditReportViewSchema),
    })
    .nullable(),
});
export type AuditActionView = z.infer<typeof auditActionViewSchema>;

/** A content rule's match in a draft, as the policy found it on submission (the text is the agent's: render it as text). */
export const contentFindingViewSchema = z.object({
  rule: z.string(),
  reason: z.string(),
  text: z.string(),
  field: z.string().nullable(),
});

/** A stop rule that applied to a draft (refused or stopped it), or a stop its outcome put on the contact. */
export const draftStopViewSchema = z.object({
  seq: z.number().int(),
  type: z.string(),
  occurredAt: z.iso.datetime({ offset: true }),
  reason: z.string(),
  by: auditActorViewSchema,
});

/**
 * One email, task or note reconstructed (issue 19): the draft as the admin API shows it (as
 * submitted, `proposed`, and as a person edited it, `edited`), who submitted it, the agent's
 * evidence, the content rules it matched, each person's decision, the stops that applied, what the
 * CRM and the agent reported (sent, bounced, the task created) and every audit event about it.
 */
export const draftAuditViewSchema = z.object({
  draft: actionViewSchema,
  agent: z.object({ id: z.string(), name: z.string(), role: z.string() }).nullable(),
  submittedBy: auditActorViewSchema.nullable(),
  evidence: auditEvidenceViewSchema,
  contentFindings: z.array(contentFindingViewSchema),
  decisions: z.array(auditDecisionViewSchema),
  stops: z.array(draftStopViewSchema),
  reports: z.array(auditReportViewSchema),
  events: z.array(auditEventViewSchema),
});
export type DraftAuditView = z.infer<typeof draftAuditViewSchema>;
