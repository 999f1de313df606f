import { and, eq, like } from 'drizzle-orm';
import { publishPolicy } from '../../server/src/services/governance/index.ts';
import { eventWithPersonalColumns, personalOfEvent, shownWhole } from '../../server/src/store/audit-store.ts';
import { auditEvents, auditPersonalData } from '../../server/src/store/schema.ts';
import { ADMIN, api, EXAMPLE_POLICY, type Harness } from './harness.ts';

/** Inside the example policy's send window for outreach (weekdays 08:00-18:00 New York): Wednesday 10:00. */
export const WEDNESDAY_MORNING_NY = new Date('2026-01-07T15:00:00Z');

export const EMAIL_EVIDENCE = { source: 'sequence-planner', reason: 'Ada asked for the pricing sheet on the call' };

/** A clock the tests move by hand; the harness reads it for every decision and audit event. */
export function testClock(start: Date = WEDNESDAY_MORNING_NY) {
  let now = start;
  return {
    now: () => now,
    advanceHours(hours: number) {
      now = new Date(now.getTime() + hours * 3_600_000);
    },
  };
}

export function emailAction(recordId: string, overrides: Record<string, unknown> = {}) {
  return {
    kind: 'send_email',
    objectType: 'contacts',
    recordId,
    to: 'ada@example.com',
    subject: 'Pricing sheet',
    body: 'Hi Ada,\nhere is the sheet.',
    evidence: EMAIL_EVIDENCE,
    ...overrides,
  };
}

export function submitAction(harness: Harness, token: string, body: unknown, headers: Record<string, string> = {}) {
  return api(harness, 'POST', '/v1/actions', { token, body, headers });
}

export function decideAction(harness: Harness, adminToken: string, actionId: string, body: unknown) {
  return api(harness, 'POST', `/v1/admin/actions/${actionId}/decisions`, { token: adminToken, body });
}

/** Publishes the example policy with other tiers for the actions, and any other top-level settings replaced. */
export async function publishActionTiers(
  harness: Harness,
  workspaceId: string,
  actions: Record<string, Record<string, string>>,
  settings: Record<string, unknown> = {},
): Promise<void> {
  const policy = structuredClone(EXAMPLE_POLICY) as { actions: Record<string, unknown> };
  await publishPolicy(
    harness.deps,
    workspaceId,
    { ...policy, actions: { ...policy.actions, ...actions }, ...settings },
    ADMIN,
  );
}

export async function actionEvents(harness: Harness, recordId: string) {
  // As people see them: with the personal values kept apart (issue 21) written back in.
  const rows = await harness.database.db
    .select(eventWithPersonalColumns)
    .from(auditEvents)
    .leftJoin(auditPersonalData, personalOfEvent)
    .where(and(eq(auditEvents.recordId, recordId), like(auditEvents.type, 'action.%')))
    .orderBy(auditEvents.seq);
  return rows.map(shownWhole);
}
