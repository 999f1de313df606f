import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayStdioToServer } from '../../server/src/cli/mcp-relay.ts';
import { seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
beforeAll(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['enrichment']);
});
afterAll(() => harness.close());

/** The relay over in-memory stdin and stdout: writes the lines, ends stdin, and gives what it printed once it returns. */
async function relay(
  lines: (object | string)[],
): Promise<{ id?: unknown; result?: unknown; error?: { message: string } }[]> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const printed: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => printed.push(chunk));
  const done = relayStdioToServer({ url: new URL(`${harness.url}/mcp`), token: ws.agents[0]!.token, stdin, stdout });
  for (const line of lines) stdin.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
  stdin.end();
  await done;
  return Buffer.concat(printed)
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

describe('agent-governance mcp, the stdio relay', () => {
  it('answers every request sent before stdin ends, as `echo … | agent-governance mcp` does', async () => {
    const answers = await relay([
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'piped', version: '1' } },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'what_may_i_change', arguments: {} } },
      { jsonrpc: '2.0', id: 3, method: 'ping' },
    ]);
    expect(answers.map((answer) => answer.error?.message)).toEqual([undefined, undefined, undefined]);
    expect(answers.map((answer) => answer.id).sort()).toEqual([1, 2, 3]);
    const whatMay = answers.find((answer) => answer.id === 2)!.result as { content: { text: string }[] };
    expect(JSON.parse(whatMay.content[1]!.text)).toMatchObject({ role: 'enrichment' });
  });

  it('answers a line that is not JSON, or not JSON-RPC, with the JSON-RPC error for it', async () => {
    const answers = await relay(['{"jsonrpc": "2.0", "id": 1, "method": "ping"', '{"id": 2, "method": "ping"}']);
    expect(answers).toEqual([
      { jsonrpc: '2.0', error: { code: -32700, message: expect.stringMatching(/^Parse error/) } },
      { jsonrpc: '2.0', error: { code: -32600, message: expect.stringMatching(/^Invalid Request/) } },
    ]);
  });
});
