import { and, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { setPersonRole } from '../../server/src/services/governance/index.ts';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import type { PersonRole } from '../../server/src/domain/approval-lifecycle.ts';
import { auditEvents } from '../../server/src/store/schema.ts';
import { ADMIN, api, type Harness } from './harness.ts';

export const EVIDENCE = { source: 'clearbit', url: 'https://example.com/p/1', confidence: 0.92, reason: 'Company site lists a new number' };

export function seedContact(harness: Harness, properties: Record<string, string> = {}): string {
  return seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'ada@example.com', firstname: 'Ada', hubspot_owner_id: '1001', ...properties } });
}

/** Submits a change set as the agent and returns the id of the one approval it held for the record. */
export async function proposeHeld(harness: Harness, input: { token: string; adminToken: string; recordId: string; properties: Record<string, string>; objectType?: 'contacts' | 'deals'; onBehalfOf?: string }): Promise<string> {
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
  const list = await api(harness, 'GET', `/v1/admin/approvals?record=${input.recordId}&status=pending`, { token: input.adminToken });
  const found = list.body.approvals.find((approval: { changeSetId: string }) => approval.changeSetId === res.body.id);
  expect(found).toBeDefined();
  return found.id as string;
}

export async function givePeopleRoles(harness: Harness, workspaceId: string, roles: Record<string, PersonRole>): Promise<void> {
  for (const [crmUserId, role] of Object.entries(roles)) await setPersonRole(harness.deps, workspaceId, { crmUserId, role }, ADMIN);
}

export function decide(harness: Harness, adminToken: string, approvalId: string, body: unknown) {
  return api(harness, 'POST', `/v1/admin/approvals/${approvalId}/decisions`, { token: adminToken, body });
}

export async function approvalEvents(harness: Harness, recordId: string, type: string) {
  return harness.database.db.select().from(auditEvents).where(and(eq(auditEvents.recordId, recordId), eq(auditEvents.type, type)));
}
