import type { Harness } from './harness.ts';

/** One MCP `tools/call` over HTTP as the agent with `token`: whether it is an error, and its content's texts. */
export async function callMcpTool(
  harness: Harness,
  token: string,
  name: string,
  args: object,
): Promise<{ isError: boolean; texts: string[] }> {
  const res = await fetch(`${harness.url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });
  const { result } = (await res.json()) as { result: { isError?: boolean; content: { text: string }[] } };
  return { isError: result.isError ?? false, texts: result.content.map((part) => part.text) };
}
