import { z } from 'zod';
import { propertyValueSchema } from './agent-api.ts';
import {
  PERSON_ROLE_NAMES,
  type personViewSchema,
  type ApprovalView,
  type AssociationApprovalView,
  type CreationApprovalView,
} from './approval-api.ts';
import {
  checkRecordIdOfType,
  objectTypeSchema,
  propertyNameSchema,
  recordIdSchema,
  type ActionKind,
  type AgentRole,
  type AgentStatus,
} from './crm-names.ts';
import type { RecordReviewView } from './admin-api.ts';
import type { KillSwitchScope, SegmentCondition } from './kill-switch.ts';
import type { Policy } from './policy.ts';
import type { ReasonCode } from './reason-codes.ts';
import { safeText } from './safe-text.ts';

/**
 * The API the HubSpot app (extension/) calls through `hubspot.fetch` (issue 8). HubSpot signs
 * every request and appends `portalId`, `userId`, `userEmail` and `appId` to its query string;
 * the server takes the caller from there, never from these bodies.
 */

export type PersonRoleName = (typeof PERSON_ROLE_NAMES)[number];

/** Query parameters HubSpot adds to every proxied request; tolerated beside ours, read only once signed. */
const hubspotProxyParams = {
  portalId: safeText.max(500).optional(),
  userId: safeText.max(500).optional(),
  userEmail: safeText.max(500).optional(),
  appId: safeText.max(500).optional(),
};

export const CARD_PAGE_SIZE_MAX = 50;

export const cardQuerySchema = z
  .strictObject({
    objectType: objectTypeSchema,
    recordId: recordIdSchema,
    page: z.coerce.number().int().min(1).max(10_000).default(1),
    pageSize: z.coerce.number().int().min(1).max(CARD_PAGE_SIZE_MAX).default(10),
    ...hubspotProxyParams,
  })
  .superRefine(checkRecordIdOfType);
export type CardQuery = z.infer<typeof cardQuerySchema>;

export const proxyOnlyQuerySchema = z.strictObject(hubspotProxyParams);

export const auditSearchQuerySchema = z.strictObject({
  batch: safeText.min(1).max(200).optional(),
  record: recordIdSchema.optional(),
  agent: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  ...hubspotProxyParams,
});

/** A decision from the card: who decides comes from HubSpot's signature, so there is no actingUserId here. */
export const extensionDecisionSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('approve'),
    properties: z.array(propertyNameSchema).min(1).max(100).optional(),
    edits: z.record(propertyNameSchema, propertyValueSchema).optional(),
  }),
  z.strictObject({
    kind: z.literal('reject'),
    properties: z.array(propertyNameSchema).min(1).max(100).optional(),
    reason: safeText.trim().min(1).max(1_000),
  }),
]);
export type ExtensionDecision = z.infer<typeof extensionDecisionSchema>;

/** A decision on a held creation or association (issue 21) from the card or the console: the whole entry, no edits. */
export const heldEntryDecisionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('approve') }),
  z.strictObject({ kind: z.literal('reject'), reason: safeText.trim().min(1).max(1_000) }),
]);
export type HeldEntryDecision = z.infer<typeof heldEntryDecisionSchema>;

/** `basedOn`: the version the person edited; publishing is refused (409 `policy_changed`) once another was published since. */
export const publishPolicyBodySchema = z.strictObject({
  document: z.unknown(),
  basedOn: z.number().int().min(1).max(2_147_483_647).optional(),
});

/** A policy version in a path: restoring one publishes its document again as the next version. */
export const policyVersionParamSchema = z.coerce.number().int().min(1).max(2_147_483_647);

/** HubSpot team ids are numeric, as user ids are. */
export const teamIdParamSchema = safeText.regex(/^[0-9]{1,18}$/, 'must be a HubSpot team id (digits only)');
export const setTeamRoleSchema = z.strictObject({ role: z.enum(PERSON_ROLE_NAMES) });

/** What the caller's role lets them do; the server enforces it, the UI only hides what would be refused. */
export interface ExtensionPermissions {
  role: PersonRoleName;
  /** `own_records`: a rep decides only where they are the record's owner. */
  decide: 'any' | 'own_records' | 'none';
  readSettings: boolean;
  publishPolicy: boolean;
  setKillSwitches: boolean;
  /** Give, change or remove people's and teams' roles (only an owner touches the owner role). */
  managePeople: boolean;
  /** Confirm or cancel a change to governance that waits for a second admin (dual control). */
  confirmGovernance: boolean;
  searchAudit: boolean;
  /** Undo agents' applied changes (issue 7's rollback): one change from the card, a batch from the home page. */
  rollBack: boolean;
  /** Create agents (their token shown once), pause, resume and revoke them. */
  manageAgents: boolean;
}

export interface Caller {
  portalId: string;
  userId: string;
  /** Their HubSpot owner id (records name owners, not users); null when they own nothing. */
  ownerId: string | null;
  permissions: ExtensionPermissions;
}

export interface Evidence {
  source?: string;
  url?: string;
  confidence?: number;
  reason?: string;
}

export type DecisionRefusalCode =
  | 'role_cannot_decide'
  | 'not_record_owner'
  | 'delegated_user_cannot_approve'
  | 'already_approved_by_this_person';

export interface PendingApprovalCard {
  approval: ApprovalView;
  agent: { id: string; name: string; role: AgentRole | null };
  evidence: Evidence | null;
  /** Whether this caller may decide it, and if not, the refusal the server would answer. */
  decidable: { ok: true } | { ok: false; code: DecisionRefusalCode };
}

/**
 * A held record creation or association (issue 21) as the card and the console show it: the
 * approvals listing's view of it, its agent, and whether this caller may decide it.
 */
export interface PendingRecordEntry {
  approval: CreationApprovalView | AssociationApprovalView;
  agent: { id: string; name: string };
  /** Whether this caller may decide it, and if not, the refusal the server would answer (a rep never may). */
  decidable: { ok: true } | { ok: false; code: DecisionRefusalCode };
}

export interface RecentAgentChange {
  changeId: string;
  changeSetId: string;
  batchId: string;
  agent: { id: string; name: string };
  property: string;
  before: string | null;
  after: string | null;
  at: string;
}

/** Who set a governed property's current value through us, and why (issue 21): its newest applied change. */
export interface FieldProvenance {
  property: string;
  value: string | null;
  changeId: string;
  changeSetId: string;
  batchId: string;
  agent: { id: string; name: string };
  at: string;
  evidence: Evidence | null;
  policyVersion: number;
  /** The people who approved it, when it was held; empty when it applied on its own. */
  approvedBy: string[];
}

/** The agent that created this record through a change set (issue 21), with why. */
export interface AgentCreation {
  changeId: string;
  changeSetId: string;
  batchId: string;
  agent: { id: string; name: string };
  at: string;
  evidence: Evidence | null;
  /** The policy version the creation was decided under. */
  policyVersion: number;
}

/** A held email, task or note on the record (issue 5's drafts), decided on the card. */
export interface PendingDraft {
  id: string;
  kind: 'send_email' | 'create_task' | 'create_note';
  agent: { id: string; name: string };
  tier: 'approval' | 'two_person';
  /** What would go out now (to, subject, body, dueAt, priority): the agent's draft, or a person's edit of it. */
  content: Record<string, string>;
  /** A person already edited the agent's draft. */
  edited: boolean;
  /** Why it is held beyond its tier: the content rules it matched and the matched text (issue 21), or null. */
  heldBecause?: string | null;
  expiresAt: string | null;
  /** Whether this caller may decide it, and if not, the refusal the server would answer. */
  decidable: { ok: true } | { ok: false; code: DecisionRefusalCode };
}

export interface EngagedKillSwitch {
  scope: KillSwitchScope;
  target: string | null;
  reason: string;
  changedAt: string;
}

export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  total: number;
}

export interface CardView {
  record: { objectType: string; recordId: string };
  caller: Caller;
  killSwitches: EngagedKillSwitch[];
  /** Set while a quarantine holds the record for review (issue 21): its agent was stopped soon after writing it. */
  review?: { reason: string; markedAt: string; agentName: string } | null;
  pending: Page<PendingApprovalCard>;
  drafts: PendingDraft[];
  /**
   * Held links from or to this record, and held creations that likely duplicate it (issue 21),
   * newest first; absent from a server that does not list them.
   */
  heldEntries?: PendingRecordEntry[];
  recentChanges: RecentAgentChange[];
  /** Set when an agent created this record. */
  createdBy: AgentCreation | null;
  /** Per property an agent set through us, who set it and why, by property name. */
  fieldProvenance: FieldProvenance[];
  /**
   * On a contact: why no agent may email it again (issue 21), each stop with the email whose
   * outcome reported it: a reply, an unsubscribe, a hard bounce, a spam complaint.
   */
  emailStops?: EmailStop[];
}

export interface EmailStop {
  reason: ReasonCode;
  at: string;
  actionId: string;
  agent: { id: string; name: string } | null;
}

/** Where a person's role comes from: their own assignment, or (lacking one) a HubSpot team they are in. */
export type RoleSource = { kind: 'user' } | { kind: 'team'; teamId: string };

export type PersonView = z.infer<typeof personViewSchema>;

export interface TeamRoleView {
  teamId: string;
  role: PersonRoleName;
  updatedAt: string;
}

export interface HubSpotTeam {
  id: string;
  name: string;
}

/** A change to governance waiting for a second admin (dual control), as the settings page lists it. */
export interface PendingGovernanceRequest {
  id: string;
  kind: 'policy_publish' | 'kill_switch_release' | 'erasure';
  reasons: { code: string; message: string }[];
  /** `person:<HubSpot user id>`, `admin:<name>`...: the one who asked cannot confirm. */
  requestedBy: string;
  requestedAt: string;
}

export interface SettingsView {
  caller: Caller;
  /** The caller's role and where it comes from; who has which role, by user and by team. */
  access: { source: RoleSource; people: PersonView[]; teamRoles: TeamRoleView[] };
  governanceRequests: PendingGovernanceRequest[];
  policy: { version: number; policy: Policy } | null;
  history: { version: number; publishedBy: string; createdAt: string }[];
  killSwitches: {
    scope: KillSwitchScope;
    target: string | null;
    condition?: SegmentCondition | null;
    engaged: boolean;
    reason: string;
    changedBy: string;
    changedAt: string;
    /** Set on a stored row this server does not understand: why, and that while engaged it stops everything. */
    notUnderstood?: string;
  }[];
  agents: { id: string; name: string; role: AgentRole; status: AgentStatus; createdAt: string }[];
  actionKinds: readonly ActionKind[];
  /**
   * Issue 21's budgets: each agent's CRM calls made for it and the spend it reported today (the
   * policy's day), against the policy's `budgets`; agents with neither are left out.
   */
  budgetUsage?: {
    day: string;
    agents: { agentId: string; crmCalls: number; spend: { currency: string; amount: number }[] }[];
  };
  /** The quarantine's review queue (issue 21), newest first. */
  reviews?: RecordReviewView[];
}

export interface BatchSummary {
  batchId: string;
  changeSets: number;
  agents: string[];
  pendingApprovals: number;
  lastAt: string;
}

export interface HomeView {
  caller: Caller;
  batches: BatchSummary[];
}

export interface AuditSearchResult {
  events: {
    seq: number;
    occurredAt: string;
    type: string;
    batchId: string | null;
    recordId: string | null;
    property: string | null;
    actor: unknown;
    before: unknown;
    after: unknown;
    /** The draft (email, task, note) the event is about, if any: the console's page for one draft reconstructs it. */
    actionId: string | null;
  }[];
}
