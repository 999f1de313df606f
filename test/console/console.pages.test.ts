import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpointKeyFromSeed, type AuditCheckpoint } from '../../server/src/domain/audit-checkpoint.ts';
import { publishDueCheckpoints } from '../../server/src/services/governance/index.ts';
import { editAsPerson, recordValues } from '../../server/src/sandbox/hubspot/state.ts';
import { runRollback } from '../support/rollbacks.ts';
import { submitAction, testClock } from '../support/actions.ts';
import { EVIDENCE, givePeopleRoles, proposeHeld, seedContact } from '../support/approvals.ts';
import { consoleCall, signInAs } from '../support/console.ts';
import { seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let clock: ReturnType<typeof testClock>;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;

beforeEach(async () => {
  clock = testClock();
  harness = await startHarness({ clock: clock.now });
  ws = await seedWorkspace(harness);
  await givePeopleRoles(harness, ws.workspaceId, {
    '501': 'approver',
    '503': 'approver',
    '777': 'auditor',
    '1001': 'rep',
    '502': 'revops_admin',
  });
});
afterEach(() => harness.close());

const get = async (cookie: string, path: string) =>
  (await (await consoleCall(harness, cookie, 'GET', path)).json()) as any;

/** Holds one value per property on a new contact, an hour apart; answers the approval ids, oldest first. */
async function holdEach(properties: Record<string, string>[]): Promise<{ ids: string[]; records: string[] }> {
  const ids: string[] = [];
  const records: string[] = [];
  for (const held of properties) {
    const recordId = seedContact(harness);
    records.push(recordId);
    ids.push(
      await proposeHeld(harness, { token: ws.agents[0]!.token, adminToken: ws.adminToken, recordId, properties: held }),
    );
    clock.advanceHours(1);
  }
  return { ids, records };
}

describe('keyset pages (issue 19)', () => {
  it('When more waits than a page holds, then the inbox pages newest first by cursor, and property and age filter in the database', async () => {
    const { ids } = await holdEach([
      { mobilephone: '+1 555 0111' },
      { phone: '+1 555 0101' },
      { phone: '+1 555 0102' },
    ]);
    const approver = await signInAs(harness, ws.workspaceId, '501');
    const first = await get(approver, '/console/api/inbox?limit=2');
    expect(first.items.map((card: any) => card.approval.id)).toEqual([ids[2], ids[1]]);
    expect(first.next).toEqual(expect.any(String));
    const second = await get(approver, `/console/api/inbox?limit=2&cursor=${first.next}`);
    expect(second.items.map((card: any) => card.approval.id)).toEqual([ids[0]]);
    expect(second.next).toBeNull();
    // The oldest holds the property: a page of one newest item would have shown nothing.
    const jobtitle = await get(approver, '/console/api/inbox?limit=1&property=mobilephone');
    expect(jobtitle.items.map((card: any) => card.approval.id)).toEqual([ids[0]]);
    const waited = await get(approver, '/console/api/inbox?limit=1&olderThanMinutes=90');
    expect(waited.items.map((card: any) => card.approval.id)).toEqual([ids[1]]);
    expect(waited.next).toEqual(expect.any(String));
    const bad = await consoleCall(harness, approver, 'GET', '/console/api/inbox?cursor=not-ours');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe('VALIDATION_FAILED');
  });

  it('When more drafts wait than a page holds, then they page newest first by their own cursor, and the age filter goes to the database', async () => {
    const ids: string[] = [];
    for (const body of ['First call', 'Second call', 'Third call']) {
      const submitted = await submitAction(harness, ws.agents[0]!.token, {
        kind: 'create_note',
        objectType: 'contacts',
        recordId: seedContact(harness),
        body,
        evidence: EVIDENCE,
      });
      expect(submitted.body.status).toBe('pending');
      ids.push(submitted.body.id);
      clock.advanceHours(1);
    }
    const approver = await signInAs(harness, ws.workspaceId, '501');
    const first = await get(approver, '/console/api/inbox?limit=2');
    expect(first.drafts.map((draft: any) => draft.id)).toEqual([ids[2], ids[1]]);
    expect(first.draftsNext).toEqual(expect.any(String));
    const second = await get(approver, `/console/api/inbox?limit=2&draftCursor=${first.draftsNext}`);
    expect(second.drafts.map((draft: any) => draft.id)).toEqual([ids[0]]);
    expect(second.draftsNext).toBeNull();
    // Waited 90 minutes or more: the two oldest, the page filled from the database, not cut after it.
    const waited = await get(approver, '/console/api/inbox?limit=1&olderThanMinutes=90');
    expect(waited.drafts.map((draft: any) => draft.id)).toEqual([ids[1]]);
    expect(waited.draftsNext).toEqual(expect.any(String));
    const bad = await consoleCall(harness, approver, 'GET', '/console/api/inbox?draftCursor=not-ours');
    expect(bad.status).toBe(400);
  });

  it('When there are more batches than a page, then batches page by cursor too', async () => {
    for (const batch of ['b-1', 'b-2', 'b-3']) {
      const recordId = seedContact(harness);
      const res = await fetch(`${harness.url}/v1/changesets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ws.agents[0]!.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          batchId: batch,
          objectType: 'contacts',
          changes: [{ recordId, properties: { phone: '+1 555 0101' }, evidence: EVIDENCE }],
        }),
      });
      expect(res.status).toBe(201);
      clock.advanceHours(1);
    }
    const auditor = await signInAs(harness, ws.workspaceId, '777');
    const first = await get(auditor, '/console/api/batches?limit=2');
    expect(first.batches.map((batch: any) => batch.batchId)).toEqual(['b-3', 'b-2']);
    const second = await get(auditor, `/console/api/batches?limit=2&cursor=${first.next}`);
    expect(second.batches.map((batch: any) => batch.batchId)).toEqual(['b-1']);
    expect(second.next).toBeNull();
  });
});

describe('batch decisions from the inbox', () => {
  it('When a person confirms the manifest, then every named approval is decided by them, via the console, in one audited batch', async () => {
    const { ids, records } = await holdEach([{ phone: '+1 555 0101' }, { phone: '+1 555 0102' }]);
    const approver = await signInAs(harness, ws.workspaceId, '501');
    const res = await consoleCall(harness, approver, 'POST', '/console/api/approvals/batch-decisions', {
      kind: 'approve',
      approvalIds: ids,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    // Answered once decided; the values are written behind the answer.
    expect(body.summary).toEqual({ decided: 2, refused: 0, applied: 0 });
    await harness.behindAnswersDone();
    expect(records.map((id) => recordValues(harness.hubspot.state, 'contacts', id)!.phone)).toEqual([
      '+1 555 0101',
      '+1 555 0102',
    ]);
    const auditor = await signInAs(harness, ws.workspaceId, '777');
    const batch = await get(auditor, '/console/api/audit?type=approval.batch_decided');
    expect(batch.events).toHaveLength(1);
    expect(batch.events[0].actor).toMatchObject({ crmUserId: '501', via: 'console' });

    const twice = await consoleCall(harness, approver, 'POST', '/console/api/approvals/batch-decisions', {
      kind: 'reject',
      approvalIds: [ids[0], ids[0]],
      reason: 'no',
    });
    expect(twice.status).toBe(400);
    const forged = await fetch(`${harness.url}/console/api/approvals/batch-decisions`, {
      method: 'POST',
      headers: { cookie: approver, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'approve', approvalIds: ids }),
    });
    expect(forged.status).toBe(403);
  });
});

describe('the audit screen', () => {
  it('When searching by person, action kind and time, then only matches come, newest first, paged by seq; the export streams the same', async () => {
    const { ids } = await holdEach([{ phone: '+1 555 0101' }, { phone: '+1 555 0102' }, { phone: '+1 555 0103' }]);
    const approverA = await signInAs(harness, ws.workspaceId, '501');
    const approverB = await signInAs(harness, ws.workspaceId, '503');
    const decide = (cookie: string, id: string) =>
      consoleCall(harness, cookie, 'POST', `/console/api/approvals/${id}/decisions`, { kind: 'approve' });
    const start = clock.now().toISOString();
    expect((await decide(approverA, ids[0]!)).status).toBe(200);
    clock.advanceHours(1);
    expect((await decide(approverA, ids[1]!)).status).toBe(200);
    expect((await decide(approverB, ids[2]!)).status).toBe(200);
    const auditor = await signInAs(harness, ws.workspaceId, '777');

    const byA = await get(auditor, '/console/api/audit?person=501&type=approval.decided&limit=1');
    expect(byA.events.map((event: any) => event.actor.crmUserId)).toEqual(['501']);
    expect(byA.next).toEqual(expect.any(Number));
    const older = await get(auditor, `/console/api/audit?person=501&type=approval.decided&limit=1&before=${byA.next}`);
    expect(older.events).toHaveLength(1);
    expect(older.events[0].seq).toBeLessThan(byA.events[0].seq);
    expect(older.next).toBeNull();

    const firstHour = new Date(Date.parse(start) + 30 * 60_000).toISOString();
    const early = await get(auditor, `/console/api/audit?type=approval.decided&from=${start}&to=${firstHour}`);
    expect(early.events).toHaveLength(1);

    const csv = await consoleCall(harness, auditor, 'GET', '/console/api/audit/export?format=csv&person=503');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toContain('seq,occurredAt,type,actor');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.slice(1).every((line) => line.includes('503'))).toBe(true);
    const ndjson = await consoleCall(harness, auditor, 'GET', '/console/api/audit/export?type=approval.decided');
    const events = (await ndjson.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.map((event) => event.actor.crmUserId)).toEqual(['501', '501', '503']);

    const bad = await consoleCall(harness, auditor, 'GET', '/console/api/audit?type=%3Cscript%3E');
    expect(bad.status).toBe(400);
    const rep = await signInAs(harness, ws.workspaceId, '1001');
    expect((await consoleCall(harness, rep, 'GET', '/console/api/audit/export')).status).toBe(403);
  });

  it('When the auditor gives the checkpoint file, then the chain is checked against each signed checkpoint, and a forged one is named', async () => {
    await holdEach([{ phone: '+1 555 0101' }]);
    const key = checkpointKeyFromSeed(randomBytes(32));
    const lines: AuditCheckpoint[] = [];
    await publishDueCheckpoints(harness.deps, {
      key,
      everyEvents: 1,
      everyMs: 0,
      publish: async (checkpoint) => void lines.push(JSON.parse(JSON.stringify(checkpoint))),
    });
    const mine = lines.filter((line) => line.workspaceId === ws.workspaceId);
    expect(mine.length).toBeGreaterThan(0);
    const auditor = await signInAs(harness, ws.workspaceId, '777');
    const verify = (checkpoints: AuditCheckpoint[]) =>
      consoleCall(harness, auditor, 'POST', '/console/api/audit/verify', {
        checkpoints,
        publicKeys: [key.publicKey],
      });
    const good = await verify(mine);
    expect(await good.json()).toMatchObject({ ok: true, checkpoints: { checked: mine.length } });
    const forged = await verify([{ ...mine[0]!, hash: 'f'.repeat(64) }]);
    expect(await forged.json()).toMatchObject({ ok: false, checkpoints: { firstBadCheckpoint: expect.any(Object) } });
    const noKey = await consoleCall(harness, auditor, 'POST', '/console/api/audit/verify', { checkpoints: mine });
    expect(noKey.status).toBe(400);
  });
});

describe('the live inbox', () => {
  it('When something is held while the inbox listens, then its event stream says the inbox changed', async () => {
    const approver = await signInAs(harness, ws.workspaceId, '501');
    const controller = new AbortController();
    const stream = await fetch(`${harness.url}/console/api/inbox/events`, {
      headers: { cookie: approver },
      signal: controller.signal,
    });
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    await holdEach([{ phone: '+1 555 0101' }]);
    let text = '';
    while (!text.includes('event: inbox-changed')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    controller.abort();
    expect(text).toMatch(/event: inbox-changed\ndata: \{"seq":\d+\}/);
    const anonymous = await fetch(`${harness.url}/console/api/inbox/events`);
    expect(anonymous.status).toBe(401);
  });
});

describe('a batch’s rollback from the console', () => {
  it('When one item is a conflict, then forcing that item alone reverts it, and undoing the rollback puts its values back', async () => {
    const records = [seedContact(harness, { phone: '+1 555 0100' }), seedContact(harness, { phone: '+1 555 0200' })];
    const res = await fetch(`${harness.url}/v1/changesets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ws.agents[0]!.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        batchId: 'enrich-9',
        objectType: 'contacts',
        changes: records.map((recordId) => ({
          recordId,
          properties: { mobilephone: '+1 555 0999' },
          evidence: EVIDENCE,
        })),
      }),
    });
    expect(res.status).toBe(201);
    const approver = await signInAs(harness, ws.workspaceId, '501');
    const held = await get(approver, '/console/api/inbox?batch=enrich-9');
    const decided = await consoleCall(harness, approver, 'POST', '/console/api/approvals/batch-decisions', {
      kind: 'approve',
      approvalIds: held.items.map((card: any) => card.approval.id),
    });
    expect(((await decided.json()) as any).summary.decided).toBe(2);
    await harness.behindAnswersDone();
    editAsPerson(harness.hubspot.state, {
      objectType: 'contacts',
      recordId: records[0]!,
      properties: { mobilephone: '+1 555 1234' },
      userId: 9001,
    });
    const admin = await signInAs(harness, ws.workspaceId, '502');
    const rollBack = async (body: unknown) => {
      clock.advanceHours(1);
      const started = await consoleCall(harness, admin, 'POST', '/console/api/rollbacks', body);
      expect(started.status).toBe(202);
      const id = ((await started.json()) as any).id as string;
      await runRollback(harness, id);
      return { id, report: await get(admin, `/console/api/rollbacks/${id}/report`) };
    };
    const mobile = (i: number) => recordValues(harness.hubspot.state, 'contacts', records[i]!)!.mobilephone || null;

    const first = await rollBack({ selector: { batchId: 'enrich-9' } });
    const conflict = first.report.items.find((item: any) => item.outcome === 'conflict');
    expect(conflict).toMatchObject({ recordId: records[0], changeIds: [expect.any(String)] });
    expect([mobile(0), mobile(1)]).toEqual(['+1 555 1234', null]);

    const forced = await rollBack({ selector: { changeIds: conflict.changeIds }, force: true });
    expect(forced.report.items).toEqual([
      expect.objectContaining({ recordId: records[0], outcome: 'reverted', forced: true }),
    ]);
    expect(mobile(0)).toBeNull();

    await rollBack({ selector: { batchId: first.id } });
    expect(mobile(1)).toBe('+1 555 0999');
  });
});
