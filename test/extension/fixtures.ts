import type { ApprovalView } from '../../shared/approval-api.ts';
import type { CardView, ExtensionPermissions, PendingApprovalCard } from '../../shared/extension-api.ts';
import { permissionsFor } from '../../server/src/domain/extension-access.ts';
import type { PersonRole } from '../../server/src/domain/approval-lifecycle.ts';

export function approval(id: string, items: { property: string; before: string | null; proposed: string | null }[], overrides: Partial<ApprovalView> = {}): ApprovalView {
  return {
    id, changeSetId: `cs-${id}`, batchId: 'enrich-1', agentId: 'agent-1', objectType: 'contacts', recordId: '123', policyVersion: 1, tier: 'approval', status: 'pending',
    expiresAt: '2026-11-26T00:00:00.000Z', recordOwnerId: '1', delegatedUserId: null, createdAt: '2026-11-23T10:00:00.000Z', decidedAt: null, message: null,
    items: items.map((item) => ({ ...item, changeId: `ch-${id}-${item.property}`, status: 'pending', approvedBy: [] })),
    ...overrides,
  };
}

export function pendingCard(id: string, options: { items?: { property: string; before: string | null; proposed: string | null }[]; decidable?: PendingApprovalCard['decidable'] } = {}): PendingApprovalCard {
  return {
    approval: approval(id, options.items ?? [{ property: 'phone', before: '+1 555 0100', proposed: '+1 555 0199' }]),
    agent: { id: 'agent-1', name: 'enricher', role: 'enrichment' },
    evidence: { source: 'clearbit', url: 'https://example.com/p/1', confidence: 0.92, reason: 'Company site lists a new number' },
    decidable: options.decidable ?? { ok: true },
  };
}

export function permissions(role: PersonRole): ExtensionPermissions {
  return permissionsFor(role);
}

export function cardView(cards: PendingApprovalCard[], options: { role?: PersonRole; total?: number; page?: number; pageSize?: number; killSwitches?: CardView['killSwitches'] } = {}): CardView {
  return {
    record: { objectType: 'contacts', recordId: '123' },
    caller: { portalId: '42', userId: '1', permissions: permissions(options.role ?? 'approver') },
    killSwitches: options.killSwitches ?? [],
    pending: { items: cards, page: options.page ?? 1, pageSize: options.pageSize ?? 5, total: options.total ?? cards.length },
    recentChanges: [{ changeId: 'c1', changeSetId: 'cs-9', batchId: 'enrich-0', agent: { id: 'agent-1', name: 'enricher' }, property: 'jobtitle', before: 'Engineer', after: 'CTO', at: '2026-11-22T10:00:00.000Z' }],
  };
}
