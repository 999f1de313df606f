import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPollingLoop } from '../../server/src/jobs/polling-loop.ts';
import { jsonLogger } from '../../server/src/logger.ts';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { bootstrapWorkspace } from '../../server/src/services/governance/index.ts';
import { ADMIN, api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

/** Issue 17, defect 7: a failed query's log line names the statement and the code, never the values it carried. */
const PERSONAL = 'Ada Lovelace <ada.lovelace@analytical.example>';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
const lines: string[] = [];

function capture(): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
}

beforeAll(async () => {
  harness = await startHarness({ logger: jsonLogger(capture()) });
  ws = await seedWorkspace(harness);
  await bootstrapWorkspace(harness.deps, ws.workspaceId, ADMIN);
  // A real constraint the second submission breaks: the database refuses it with a duplicate key
  // whose detail quotes the evidence, as a real unique violation would.
  await harness.database.db.execute(
    sql.raw('create unique index change_records_evidence_once on change_records ((evidence::text))'),
  );
});
afterAll(() => harness.close());

const submit = (recordId: string) =>
  api(harness, 'POST', '/v1/changesets', {
    token: ws.agents[0]!.token,
    body: {
      batchId: 'leak-check',
      objectType: 'contacts',
      changes: [
        {
          recordId,
          properties: { jobtitle: 'CTO' },
          evidence: { source: 'crm-notes', reason: `Email from ${PERSONAL}` },
        },
      ],
    },
  });

describe('when a query fails inside a request', () => {
  it('answers 500 INTERNAL and logs the statement and SQLSTATE without any bound value', async () => {
    const first = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'one@example.com' } });
    const second = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'two@example.com' } });
    expect((await submit(first)).status).toBe(201);
    lines.length = 0;

    const res = await submit(second);
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('INTERNAL');
    expect(JSON.stringify(res.body)).not.toContain('Lovelace');

    const logged = lines.map(
      (line) =>
        JSON.parse(line) as { level: string; message: string; requestId: string; error: Record<string, string> },
    );
    const failure = logged.find((line) => line.message === 'request failed');
    expect(failure).toMatchObject({
      level: 'error',
      requestId: res.body.error.requestId,
      error: { sqlState: '23505', constraint: 'change_records_evidence_once' },
    });
    expect(failure?.error['statement']).toMatch(/insert into "?change_records"?/i);
    for (const line of lines) {
      expect(line).not.toContain('Lovelace');
      expect(line).not.toContain(second);
      expect(line).not.toContain('params');
      expect(line).not.toContain(ws.workspaceId);
    }
  });
});

describe('when a background job’s query fails', () => {
  it('logs the statement and SQLSTATE without any bound value', async () => {
    lines.length = 0;
    let rounds = 0;
    const loop = startPollingLoop({
      name: 'leak check',
      logger: jsonLogger(capture()),
      pollMs: 10_000,
      round: async () => {
        rounds += 1;
        if (rounds === 1) await harness.database.db.execute(sql`select ${PERSONAL}::uuid`);
        return 0;
      },
    });
    await loop.stop();
    const [line] = lines;
    expect(JSON.parse(line!)).toMatchObject({
      level: 'error',
      message: 'leak check failed',
      error: { sqlState: '22P02', statement: 'select $1::uuid' },
    });
    expect(line).not.toContain('Lovelace');
  });
});
