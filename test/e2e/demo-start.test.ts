import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, serverEnv, startNodeProcess, urlFromLog, type NodeProcess } from './support/processes.ts';
import { emptyDataFolder } from '../support/data-folders.ts';

const run = promisify(execFile);

// `npm start` on a fresh data folder, as a new user runs it: the server starts its sandbox,
// sets the demo up and governs a batch through its own public API. Driven here only over HTTP.
describe('npm start in demo mode', () => {
  // A space in the folder's path, as a person's home folder may hold: the printed commands quote it.
  const data = emptyDataFolder('ag-e2e-demo folder-');
  let server: NodeProcess;
  let serverUrl: string;
  let sandboxUrl: string;

  beforeAll(async () => {
    server = startNodeProcess('server/src/main.ts', serverEnv(data.dir));
    serverUrl = await urlFromLog(server, 'listening');
    sandboxUrl = await urlFromLog(server, 'sandbox listening');
    await server.waitForLine((line) => line.startsWith('Try next'));
  });
  afterAll(async () => {
    await server.stop();
    data.remove();
  });

  it('applies the auto values with provenance in the sandbox, writes nothing held or refused, and the audit verifies', async () => {
    const stdout = server.stdout();
    // In the README's order: the addresses (the console's sign-in link last of them), then the tokens.
    expect(stdout.indexOf('  workspace: ')).toBeGreaterThan(0);
    expect(stdout.indexOf('  web console: ')).toBeGreaterThan(stdout.indexOf('  workspace: '));
    expect(stdout.indexOf('Tokens, shown this once')).toBeGreaterThan(stdout.indexOf('  web console: '));
    const changeSetId = /change set ([0-9a-f-]{36})/.exec(server.stdout())?.[1];
    const agentToken = fs.readFileSync(path.join(data.dir, 'demo', 'enrichment-agent.token'), 'utf8');
    const adminToken = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    expect(fs.statSync(path.join(data.dir, 'demo', 'admin.token')).mode & 0o777).toBe(0o600);

    const changeSet = await http('GET', `${serverUrl}/v1/changesets/${changeSetId}`, { token: agentToken });
    expect(changeSet.status).toBe(200);
    const results: { recordId: string; property: string; decision: string; reasons: string[]; proposed: string }[] =
      changeSet.body.results;
    expect(new Set(results.map((r) => r.decision))).toEqual(new Set(['applied', 'pending_approval', 'denied']));

    for (const result of results) {
      const record = await http('GET', `${sandboxUrl}/_sandbox/records/contacts/${result.recordId}`);
      const apiWrites = (record.body.history[result.property] ?? []).filter(
        (entry: { sourceType: string }) => entry.sourceType === 'API',
      );
      if (result.decision === 'applied' && !result.reasons.includes('value_unchanged')) {
        expect(record.body.values[result.property]).toBe(result.proposed);
        expect(apiWrites).toHaveLength(1);
        expect(record.body.values.ag_last_change_id).toBe(changeSetId);
        expect(record.body.values.ag_last_agent).toBe('demo-enricher');
      } else {
        expect(apiWrites).toHaveLength(0);
      }
    }
    expect(await http('GET', `${serverUrl}/v1/admin/audit/verify`, { token: adminToken })).toMatchObject({
      status: 200,
      body: { ok: true },
    });
  });

  it('lets a person edit in the sandbox from the CLI while the server holds the database', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        path.resolve('server/src/cli/main.ts'),
        'sandbox',
        'edit',
        '--object',
        'contacts',
        '--id',
        '1001',
        '--property',
        'jobtitle',
        '--value',
        'Founder',
        '--sandbox-url',
        sandboxUrl,
        '--json',
      ],
      { env: { ...process.env, DATA_DIR: data.dir } },
    );
    expect(JSON.parse(stdout)).toMatchObject({ value: 'Founder' });
    const record = await http('GET', `${sandboxUrl}/_sandbox/records/contacts/1001`);
    expect(record.body.history.jobtitle[0]).toMatchObject({ value: 'Founder', sourceType: 'CRM_UI' });
  });

  it('approves a held value with the command it printed, and HubSpot gets the value', async () => {
    const adminToken = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    const printed = /approvals\/([0-9a-f-]{36})\/decisions .* -d '(\{[^']+\})'/.exec(server.stdout());
    expect(printed).not.toBeNull();
    const decided = await http('POST', `${serverUrl}/v1/admin/approvals/${printed![1]}/decisions`, {
      token: adminToken,
      body: JSON.parse(printed![2]!),
    });
    expect(decided).toMatchObject({ status: 200, body: { status: 'applied' } });
    const item = decided.body.items[0] as { property: string; proposed: string };
    const record = await http('GET', `${sandboxUrl}/_sandbox/records/contacts/${decided.body.recordId}`);
    expect(record.body.values[item.property]).toBe(item.proposed);
  });

  it('prints a person’s edit of a field that waits for approval; run, the sandbox’s signed webhook makes that approval stale, items and all', async () => {
    const adminToken = fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8');
    // The server's sandbox is on a port of its own here, so the printed command names it.
    const printed =
      /sandbox edit --object contacts --id (\d+) --property (\S+) --value "([^"]+)" --sandbox-url (\S+)/.exec(
        server.stdout(),
      );
    expect(printed).not.toBeNull();
    const [, recordId, property, value, printedSandboxUrl] = printed!;
    expect(printedSandboxUrl).toBe(sandboxUrl);
    const pending = await http('GET', `${serverUrl}/v1/admin/approvals?status=pending&record=${recordId}`, {
      token: adminToken,
    });
    const approval = (pending.body.approvals as { id: string; items: { property: string }[] }[]).find((candidate) =>
      candidate.items.some((item) => item.property === property),
    );
    expect(approval).toBeDefined();
    await run(
      process.execPath,
      [
        path.resolve('server/src/cli/main.ts'),
        'sandbox',
        'edit',
        '--object',
        'contacts',
        '--id',
        recordId!,
        '--property',
        property!,
        '--value',
        value!,
        '--sandbox-url',
        printedSandboxUrl!,
        '--json',
      ],
      {
        env: { ...process.env, DATA_DIR: data.dir },
      },
    );
    await expect
      .poll(
        async () =>
          (await http('GET', `${serverUrl}/v1/admin/approvals/${approval!.id}`, { token: adminToken })).body.status,
        { timeout: 20_000, interval: 250 },
      )
      .toBe('stale');
    const stale = await http('GET', `${serverUrl}/v1/admin/approvals/${approval!.id}`, { token: adminToken });
    expect(stale.body.items.map((item: { status: string }) => item.status)).toEqual(
      stale.body.items.map(() => 'stale'),
    );
  });

  it('keeps the sandbox’s data and the demo workspace across a restart, shows no token again, and sends the next batch', async () => {
    await server.stop();
    server = startNodeProcess('server/src/main.ts', serverEnv(data.dir));
    sandboxUrl = await urlFromLog(server, 'sandbox listening');
    await server.waitForLine((line) => line.startsWith('Try next'));
    expect(server.stdout()).not.toContain('Tokens, shown this once');
    expect(server.stdout()).not.toContain('freshly seeded');
    expect(server.stdout()).toContain('Batch demo-enrichment-1');
    const record = await http('GET', `${sandboxUrl}/_sandbox/records/contacts/1001`);
    expect(record.body.values.jobtitle).toBe('Founder');
  });

  it('prints npm run demo:agent with the HOST, PORT and DATA_DIR it needs to find this server and its token', async () => {
    // Printed bare, it looked for the server on port 3000 and its token in ./.data, and found neither.
    const printed = /^ {2}((?:[A-Z_]+=(?:'[^']*'|\S+) )*)npm run demo:agent /m.exec(server.stdout());
    expect(printed).not.toBeNull();
    const settings = Object.fromEntries(
      [...printed![1]!.matchAll(/([A-Z_]+)=('[^']*'|\S+) /g)].map(([, name, value]) => [
        name,
        value!.replace(/^'(.*)'$/, '$1'),
      ]),
    );
    expect(settings).toEqual({ PORT: new URL(await urlFromLog(server, 'listening')).port, DATA_DIR: data.dir });
    const { stdout } = await run(process.execPath, [path.resolve('server/src/demo/agent.ts')], {
      env: { ...process.env, HOST: undefined, PORT: undefined, DATA_DIR: undefined, ...settings },
    });
    expect(stdout).toMatch(/^Batch demo-enrichment-2 → change set [0-9a-f-]{36} \(policy v1\):/);
  });

  it('prints the admin token’s path so that a shell reads it, spaces and all', async () => {
    const verify = server
      .stdout()
      .split('\n')
      .find((line) => line.includes('/v1/admin/audit/verify'))!;
    const tokenRead = /\$\((cat [^)]+)\)/.exec(verify)![1]!;
    const { stdout } = await run('sh', ['-c', tokenRead]);
    expect(stdout).toBe(fs.readFileSync(path.join(data.dir, 'demo', 'admin.token'), 'utf8'));
  });
});
