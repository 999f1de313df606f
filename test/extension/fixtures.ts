import type { ApprovalView } from '../../shared/approval-api.ts';
import type {
  CardView,
  ExtensionPermissions,
  HomeView,
  PendingApprovalCard,
  PendingRecordEntry,
  SettingsView,
} from '../../shared/extension-api.ts';
import type { Policy } from '../../shared/policy.ts';
import { permissionsFor } from '../../server/src/domain/extension-access.ts';
import type { PersonRole } from '../../server/src/domain/approval-lifecycle.ts';

export function approval(
  id: string,
  items: { property: string; before: string | null; proposed: string | null }[],
  overrides: Partial<ApprovalView> = {},
): ApprovalView {
  return {
    id,
    changeSetId: `cs-${id}`,
    batchId: 'enrich-1',
    agentId: 'agent-1',
    objectType: 'contacts',
    recordId: '123',
    policyVersion: 1,
    tier: 'approval',
    status: 'pending',
    expiresAt: '2026-11-26T00:00:00.000Z',
    recordOwnerId: '1',
    delegatedUserId: null,
    createdAt: '2026-11-23T10:00:00.000Z',
    decidedAt: null,
    message: null,
    items: items.map((item) => ({ ...item, changeId: `ch-${id}-${item.property}`, status: 'pending', approvedBy: [] })),
    ...overrides,
  };
}

export function pendingCard(
  id: string,
  options: {
    items?: { property: string; before: string | null; proposed: string | null }[];
    decidable?: PendingApprovalCard['decidable'];
  } = {},
): PendingApprovalCard {
  return {
    approval: approval(id, options.items ?? [{ property: 'phone', before: '+1 555 0100', proposed: '+1 555 0199' }]),
    agent: { id: 'agent-1', name: 'enricher', role: 'enrichment' },
    evidence: {
      source: 'clearbit',
      url: 'https://example.com/p/1',
      confidence: 0.92,
      reason: 'Company site lists a new number',
    },
    decidable: options.decidable ?? { ok: true },
  };
}

/** A held link from this contact (123) to a company, as the card shows it (issue 21). */
export function heldLink(
  id: string,
  options: {
    tier?: 'approval' | 'two_person';
    approvedBy?: string[];
    decidable?: PendingRecordEntry['decidable'];
  } = {},
): PendingRecordEntry {
  return {
    approval: {
      kind: 'association',
      id,
      changeSetId: `cs-${id}`,
      batchId: 'link-1',
      agentId: 'agent-2',
      objectType: 'contacts',
      recordId: '123',
      toObjectType: 'companies',
      toRecordId: '987',
      policyVersion: 3,
      tier: options.tier ?? 'approval',
      status: 'pending',
      expiresAt: '2026-11-26T10:00:00.000Z',
      delegatedUserId: null,
      createdAt: '2026-11-23T10:00:00.000Z',
      decidedAt: null,
      message: null,
      approvedBy: options.approvedBy ?? [],
      reasons: ['tier_approval'],
      evidence: { source: 'apollo', reason: 'Works there, per the team page', confidence: 0.9 },
    },
    agent: { id: 'agent-2', name: 'prospector' },
    decidable: options.decidable ?? { ok: true },
  };
}

export function permissions(role: PersonRole): ExtensionPermissions {
  return permissionsFor(role);
}

export function cardView(
  cards: PendingApprovalCard[],
  options: {
    role?: PersonRole;
    total?: number;
    page?: number;
    pageSize?: number;
    killSwitches?: CardView['killSwitches'];
    drafts?: CardView['drafts'];
    createdBy?: CardView['createdBy'];
    fieldProvenance?: CardView['fieldProvenance'];
    emailStops?: CardView['emailStops'];
    heldEntries?: CardView['heldEntries'];
  } = {},
): CardView {
  return {
    record: { objectType: 'contacts', recordId: '123' },
    caller: { portalId: '42', userId: '1', ownerId: '1', permissions: permissions(options.role ?? 'approver') },
    killSwitches: options.killSwitches ?? [],
    pending: {
      items: cards,
      page: options.page ?? 1,
      pageSize: options.pageSize ?? 5,
      total: options.total ?? cards.length,
    },
    drafts: options.drafts ?? [],
    ...(options.heldEntries ? { heldEntries: options.heldEntries } : {}),
    createdBy: options.createdBy ?? null,
    fieldProvenance: options.fieldProvenance ?? [],
    ...(options.emailStops ? { emailStops: options.emailStops } : {}),
    recentChanges: [
      {
        changeId: 'c1',
        changeSetId: 'cs-9',
        batchId: 'enrich-0',
        agent: { id: 'agent-1', name: 'enricher' },
        property: 'jobtitle',
        before: 'Engineer',
        after: 'CTO',
        at: '2026-11-22T10:00:00.000Z',
      },
    ],
  };
}

export const POLICY: Policy = {
  name: 'example',
  timezone: 'UTC',
  conditions: [],
  caps: {},
  windows: [],
  actions: {},
  approvals: { expiryHours: 72 },
  objects: {
    contacts: { properties: { jobtitle: { enrichment: 'auto', '*': 'approval' }, phone: { enrichment: 'approval' } } },
    deals: { properties: { amount: { '*': 'deny' } } },
  },
};

export function settingsView(
  role: PersonRole,
  options: {
    killSwitches?: SettingsView['killSwitches'];
    access?: Partial<SettingsView['access']>;
    governanceRequests?: SettingsView['governanceRequests'];
    agents?: SettingsView['agents'];
  } = {},
): SettingsView {
  return {
    caller: { portalId: '42', userId: '1', ownerId: '1', permissions: permissions(role) },
    access: {
      source: { kind: 'user' },
      people: [{ crmUserId: '1', role, crmOwnerId: '1', updatedAt: '2026-11-20T09:00:00.000Z' }],
      teamRoles: [{ teamId: '7001', role: 'approver', updatedAt: '2026-11-20T09:00:00.000Z' }],
      ...options.access,
    },
    governanceRequests: options.governanceRequests ?? [],
    policy: { version: 3, policy: POLICY },
    history: [
      { version: 3, publishedBy: 'person:hubspot-user:1', createdAt: '2026-11-23T09:00:00.000Z' },
      { version: 2, publishedBy: 'admin:cli', createdAt: '2026-11-22T09:00:00.000Z' },
    ],
    killSwitches: options.killSwitches ?? [],
    agents: options.agents ?? [
      {
        id: '00000000-0000-4000-8000-000000000001',
        name: 'enricher',
        role: 'enrichment',
        status: 'active',
        createdAt: '2026-11-20T09:00:00.000Z',
      },
    ],
    actionKinds: ['field_write', 'send_email', 'create_task', 'create_note'],
  };
}

export function homeView(role: PersonRole): HomeView {
  return {
    caller: { portalId: '42', userId: '1', ownerId: '1', permissions: permissions(role) },
    batches: [
      {
        batchId: 'enrich-7',
        changeSets: 2,
        agents: ['enricher'],
        pendingApprovals: 3,
        lastAt: '2026-11-23T09:00:00.000Z',
      },
    ],
  };
}
