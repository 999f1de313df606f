import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../server/src/cli/run-cli.ts';
import type { Runtime } from '../../server/src/runtime.ts';
import { cliOver } from '../support/cli.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { AllowedNetworks } from '../../server/src/domain/outbound-addresses.ts';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());

/** A stdout whose writes fail as the operating system's would: a reader gone (`| head -1`), a full disk. */
function failingStdout(code: 'EPIPE' | 'ENOSPC', afterChunks = 0): Writable {
  let chunks = 0;
  return new Writable({
    write(_chunk, _encoding, done) {
      if (chunks++ < afterChunks) return done();
      done(Object.assign(new Error(`write ${code}`), { code, syscall: 'write' }));
    },
  });
}

async function run(args: string[], stdout: Writable) {
  let stderr = '';
  const runtime: Runtime = {
    database: harness.database,
    deps: harness.deps,
    checkpointKey: { key: undefined, why: 'no key in this test' },
    crmAddresses: { networks: new AllowedNetworks([]), localOrigins: new Set() },
    close: async () => {},
  };
  const code = await runCli(args, {
    stdout,
    stderr: new Writable({
      write(chunk, _encoding, done) {
        stderr += chunk.toString();
        done();
      },
    }),
    env: { DATA_DIR: 'unused-by-an-injected-runtime' },
    openRuntime: async () => runtime,
  });
  return { code, stderr };
}

describe('the CLI writing to a stdout that fails', () => {
  it('ends quietly, status 0, when the reader has gone (`| head -1`)', async () => {
    expect(await run(['--help'], failingStdout('EPIPE'))).toEqual({ code: 0, stderr: '' });
    expect(await run(['workspace', 'list', '--json'], failingStdout('EPIPE'))).toEqual({ code: 0, stderr: '' });
  });

  it('stops an export quietly when the reader leaves after its first lines', async () => {
    const workspace = await cliOver(
      harness,
      'workspace',
      'add',
      '--name',
      'Piped',
      '--hubspot-portal-id',
      '9301',
      '--hubspot-token',
      'pat-na1-secret',
      '--no-verify',
      '--json',
    );
    const exported = await run(
      ['audit', 'export', '--workspace', String(workspace.json.id), '--format', 'csv'],
      failingStdout('EPIPE', 1),
    );
    expect(exported).toEqual({ code: 0, stderr: '' });
  });

  it('says in one line that the output could not be written when the disk is full, and exits 1', async () => {
    for (const args of [['--help'], ['workspace', 'list'], ['workspace', 'list', '--json']])
      expect(await run(args, failingStdout('ENOSPC'))).toEqual({
        code: 1,
        stderr: 'error: could not write the output: write ENOSPC\n',
      });
  });
});
