import { and, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { setPersonRole } from '../../server/src/services/governance/index.ts';
import type { PersonRole } from '../../server/src/domain/approval-lifecycle.ts';
import { propertyHistory, seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { eventWithPersonalColumns, personalOfEvent, shownWhole } from '../../server/src/store/audit-store.ts';
import { approvals, auditEvents, auditPersonalData } from '../../server/src/store/schema.ts';
import { ADMIN, api, type Harness } from './harness.ts';

export const EVIDENCE = {
  source: 'clearbit',
  url: 'https://example.com/p/1',
  confidence: 0.92,
  reason: 'Company site lists a new number',
};

export function seedContact(harness: Harness, properties: Record<string, string> = {}): string {
  return seedRecord(harness.hubspot.state, 'contacts', {
    properties: { email: 'ada@example.com', firstname: 'Ada', hubspot_owner_id: '1001', ...properties },
  });
}

/** Submits a change set as the agent and returns the id of the one approval it held for the record. */
export async function proposeHeld(
  harness: Harness,
  input: {
    token: string;
    adminToken: string;
    recordId: string;
    properties: Record<string, string>;
    objectType?: 'contacts' | 'deals';
    onBehalfOf?: string;
  },
): Promise<string> {
  const res = await api(harness, 'POST', '/v1/changesets', {
    token: input.token,
    body: {
      batchId: 'enrich-1',
      objectType: input.objectType ?? 'contacts',
      ...(input.onBehalfOf ? { onBehalfOf: { crmUserId: input.onBehalfOf } } : {}),
      changes: [{ recordId: input.recordId, properties: input.properties, evidence: EVIDENCE }],
    },
  });
  expect(res.status).toBe(201);
  const list = await api(harness, 'GET', `/v1/admin/approvals?record=${input.recordId}&status=pending`, {
    token: input.adminToken,
  });
  const found = list.body.approvals.find((approval: { changeSetId: string }) => approval.changeSetId === res.body.id);
  expect(found).toBeDefined();
  return found.id as string;
}

export async function givePeopleRoles(
  harness: Harness,
  workspaceId: string,
  roles: Record<string, PersonRole>,
): Promise<void> {
  for (const [crmUserId, role] of Object.entries(roles))
    await setPersonRole(harness.deps, workspaceId, { crmUserId, role }, ADMIN);
}

export function decide(harness: Harness, adminToken: string, approvalId: string, body: unknown) {
  return api(harness, 'POST', `/v1/admin/approvals/${approvalId}/decisions`, { token: adminToken, body });
}

export async function approvalEvents(harness: Harness, recordId: string, type: string) {
  // As people see them: with the personal values kept apart (issue 21) written back in.
  const rows = await harness.database.db
    .select(eventWithPersonalColumns)
    .from(auditEvents)
    .leftJoin(auditPersonalData, personalOfEvent)
    .where(and(eq(auditEvents.recordId, recordId), eq(auditEvents.type, type)));
  return rows.map(shownWhole);
}

/**
 * Sends two decisions on one held phone write at the same moment (approver 501 approves, 502
 * approves or rejects): exactly one takes effect, the other is refused with 409 as no longer
 * pending, and HubSpot and the approval hold the winner's outcome, written at most once.
 */
export async function expectOneOfTwoDecisions(
  harness: Harness,
  adminToken: string,
  held: { recordId: string; approvalId: string },
  second: 'approve' | 'reject',
): Promise<void> {
  const [approve, other] = await Promise.all([
    decide(harness, adminToken, held.approvalId, { kind: 'approve', actingUserId: '501' }),
    decide(
      harness,
      adminToken,
      held.approvalId,
      second === 'approve'
        ? { kind: 'approve', actingUserId: '502' }
        : { kind: 'reject', actingUserId: '502', reason: 'Not this number' },
    ),
  ]);
  expect([approve.status, other.status].sort()).toEqual([200, 409]);
  const approved = second === 'approve' || approve.status === 200;
  const [stored] = await harness.database.db.select().from(approvals).where(eq(approvals.id, held.approvalId));
  expect(stored!.status).toBe(approved ? 'applied' : 'rejected');
  expect(
    propertyHistory(harness.hubspot.state, 'contacts', held.recordId, 'phone').filter(
      (entry) => entry.sourceType === 'API',
    ),
  ).toHaveLength(approved ? 1 : 0);
  expect(await approvalEvents(harness, held.recordId, 'approval.applied')).toHaveLength(approved ? 1 : 0);
  if (second === 'approve')
    expect([approve, other].find((answer) => answer.status === 409)!.body.error.details.refusal).toBe(
      'approval_not_pending',
    );
}
