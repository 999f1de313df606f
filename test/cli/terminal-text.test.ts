import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedRecord } from '../../server/src/sandbox/hubspot/state.ts';
import { cliAtTerminal, cliOver } from '../support/cli.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
beforeAll(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment']);
});
afterAll(() => harness.close());

/**
 * What an agent writes reaches an operator's terminal: an escape sequence there would be obeyed
 * (OSC 52 sets the clipboard, CSI 2J clears the screen, a carriage return writes over the line).
 */
const ESCAPES = '\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007\u001b[2J\rall clear\u009b31m\u202e';

/** Which of ESCAPES' controls reached the output as they are. */
const rawControls = (output: string) => [...'\u001b\u0007\r\u009b\u202e'].filter((control) => output.includes(control));

describe('the CLI’s output for people', () => {
  it('shows control characters an agent wrote as markers, not as commands to the terminal', async () => {
    const agent = ws.agents[0]!;
    const recordId = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'a@example.com' } });
    const submitted = await api(harness, 'POST', '/v1/changesets', {
      token: agent.token,
      body: {
        batchId: 'b1',
        objectType: 'contacts',
        changes: [
          {
            recordId,
            properties: { jobtitle: 'CTO' },
            evidence: { source: 'apollo', reason: 'profile', confidence: 0.9, promptHash: `p1${ESCAPES}` },
          },
        ],
      },
    });
    expect(submitted.status).toBe(201);

    const shown = await cliOver(harness, 'agents', 'safety', '--workspace', ws.workspaceId, '--agent', agent.id);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(
      'p1⟨U+001B⟩]52;c;Y3VybCBldmlsIHwgc2g=⟨U+0007⟩⟨U+001B⟩[2J⟨U+000D⟩all clear⟨U+009B⟩31m⟨U+202E⟩',
    );
    expect(rawControls(shown.stdout)).toEqual([]);
    // Scripts read the exact value.
    const json = await cliOver(
      harness,
      'agents',
      'safety',
      '--workspace',
      ws.workspaceId,
      '--agent',
      agent.id,
      '--json',
    );
    expect(JSON.stringify(json.json)).toContain(JSON.stringify(`p1${ESCAPES}`).slice(1, -1));
  });

  it('keeps them from the terminal in an audit export to stdout, and a pipe or file gets the exact bytes', async () => {
    const agent = ws.agents[0]!;
    const recordId = seedRecord(harness.hubspot.state, 'contacts', { properties: { email: 'b@example.com' } });
    const submitted = await api(harness, 'POST', '/v1/changesets', {
      token: agent.token,
      body: {
        batchId: 'b2',
        objectType: 'contacts',
        changes: [
          {
            recordId,
            properties: { jobtitle: `CFO${ESCAPES}` },
            evidence: { source: 'apollo', reason: 'profile', confidence: 0.9, promptHash: 'p2' },
          },
        ],
      },
    });
    expect(submitted.status).toBe(201);
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-export-'));
    try {
      for (const format of ['ndjson', 'csv']) {
        const args = ['audit', 'export', '--workspace', ws.workspaceId, '--format', format];
        const file = path.join(folder, `events.${format}`);
        expect((await cliOver(harness, ...args, '--out', file)).code).toBe(0);
        const piped = await cliOver(harness, ...args);
        expect(piped.code).toBe(0);
        // What scripts read: the stored value's bytes, as the file has them.
        expect(piped.stdout).toBe(fs.readFileSync(file, 'utf8'));
        expect(piped.stdout).toContain('\u009b31m\u202e');

        const shown = await cliAtTerminal(harness, ...args);
        expect(shown.code).toBe(0);
        expect(rawControls(shown.stdout)).toEqual([]);
        if (format === 'ndjson') {
          expect(shown.stdout).toContain(String.raw`\u009b31m\u202e`);
          // Still NDJSON, of the very values stored.
          const parsed = (ndjson: string) =>
            ndjson
              .trimEnd()
              .split('\n')
              .map((line) => JSON.parse(line));
          expect(parsed(shown.stdout)).toEqual(parsed(piped.stdout));
        } else
          expect(shown.stdout).toContain(
            // Cells holding JSON have the C0 controls escaped already.
            String.raw`""jobtitle"":""CFO\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007\u001b[2J\rall clear⟨U+009B⟩31m⟨U+202E⟩""`,
          );
      }
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('shows them as markers in an error too', async () => {
    const failed = await cliOver(harness, 'agents', 'safety', '--workspace', `x${ESCAPES}`, '--agent', 'a');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('x⟨U+001B⟩]52;');
    expect(rawControls(failed.stderr)).toEqual([]);
  });
});
