/**
 * An enrichment agent's loop over MCP (docs/mcp.md): ask what it may change, skip values already
 * waiting for a person, propose, read the decisions, and stop at once when a kill switch says so.
 * Its "model" is a fixed list of findings; a real agent asks an LLM and hands it the same tools.
 *
 *   AGENT_TOKEN=$(cat .data/demo/enrichment-agent.token) node examples/mcp-agent.ts [SERVER_URL]
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

const server = process.argv[2] ?? 'http://127.0.0.1:3000';
const findings = [
  { recordId: '1101', properties: { jobtitle: 'Head of Data', phone: '+1 555 0101' } },
  { recordId: '1102', properties: { city: 'Lisbon', hs_email_optout: 'false' } },
];
const evidence = { source: 'clearbit', url: 'https://example.com/profile', confidence: 0.9, reason: 'Profile match' };

const client = new Client({ name: 'example-enricher', version: '1.0.0' });
await client.connect(
  new StreamableHTTPClientTransport(new URL('/mcp', server), {
    requestInit: { headers: { authorization: `Bearer ${process.env.AGENT_TOKEN}` } },
  }),
);

interface Permissions {
  objects: { contacts: Record<'auto' | 'approval' | 'two_person' | 'deny', string[]> };
}
interface RecordProposals {
  proposals: { properties: { property: string }[] }[];
}
interface ChangeSet {
  results: { recordId: string; property: string; decision: string; reasons: string[] }[];
}

/** Calls a tool; returns its JSON, or ends the run when the server says stop. */
async function call<T>(name: string, args: Record<string, unknown>): Promise<T> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const [sentence, json] = result.content.map((part) => (part.type === 'text' ? part.text : ''));
  console.log(`${name}: ${sentence}`);
  const value = JSON.parse(json ?? 'null');
  if (value?.error?.stop) {
    await client.close();
    process.exit(2);
  }
  // A change set of which nothing passed is a refusal too, but it carries its decisions: read them.
  if (result.isError && value?.error) throw new Error(sentence);
  return value;
}

try {
  const allowed = await call<Permissions>('what_may_i_change', {});
  const mayPropose = new Set([...allowed.objects.contacts.auto, ...allowed.objects.contacts.approval]);
  const changes = [];
  for (const finding of findings) {
    const waiting = await call<RecordProposals>('get_record_proposals', {
      objectType: 'contacts',
      recordId: finding.recordId,
    });
    const pending = new Set(waiting.proposals.flatMap((p) => p.properties.map((q) => q.property)));
    const properties = Object.fromEntries(
      Object.entries(finding.properties).filter(([name]) => mayPropose.has(name) && !pending.has(name)),
    );
    if (Object.keys(properties).length > 0) changes.push({ recordId: finding.recordId, properties, evidence });
  }
  if (changes.length === 0) console.log('Nothing left to propose.');
  else {
    const changeSet = await call<ChangeSet>('propose_crm_changes', {
      batchId: `example-${Date.now()}`,
      objectType: 'contacts',
      changes,
    });
    for (const r of changeSet.results)
      console.log(`  ${r.recordId}.${r.property}: ${r.decision} (${r.reasons.join(', ')})`);
  }
} finally {
  await client.close();
}
