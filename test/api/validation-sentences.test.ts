import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOver } from '../support/cli.ts';
import { callMcpTool } from '../support/mcp.ts';
import { api, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

// Each kind of check zod makes, as the API words it: a sentence a person reads, naming the field,
// never zod's own 'Too big: expected string to have <=200 characters'. The code and the shape of
// details.issues stay what clients already read.
let harness: Harness;
let agentToken: string;
let adminToken: string;

beforeAll(async () => {
  harness = await startHarness();
  const ws = await seedWorkspace(harness);
  agentToken = ws.agents[0]!.token;
  adminToken = ws.adminToken;
});
afterAll(() => harness.close());

const evidence = { source: 'apollo', reason: 'profile says so' };
const change = { recordId: '501', properties: { jobtitle: 'CTO' }, evidence };
const changeSet = (overrides: Record<string, unknown>) => ({
  batchId: 'b',
  objectType: 'contacts',
  changes: [change],
  ...overrides,
});
const withEvidence = (overrides: Record<string, unknown>) =>
  changeSet({ changes: [{ ...change, evidence: { ...evidence, ...overrides } }] });

const bodies: { kind: string; body: unknown; path: string; sentence: string }[] = [
  {
    kind: 'text past its length',
    body: withEvidence({ source: 'x'.repeat(201) }),
    path: 'changes.0.evidence.source',
    sentence: 'must be at most 200 characters long',
  },
  { kind: 'blank text', body: changeSet({ batchId: '   ' }), path: 'batchId', sentence: 'must not be empty' },
  {
    kind: 'a missing field',
    body: changeSet({ changes: [{ ...change, evidence: { reason: 'r' } }] }),
    path: 'changes.0.evidence.source',
    sentence: 'is required',
  },
  {
    kind: 'a number for text',
    body: changeSet({ batchId: 7 }),
    path: 'batchId',
    sentence: 'must be text; got number 7',
  },
  {
    kind: 'text for a number',
    body: withEvidence({ confidence: 'high' }),
    path: 'changes.0.evidence.confidence',
    sentence: 'must be a number; got string "high"',
  },
  {
    kind: 'a number past its maximum',
    body: withEvidence({ confidence: 1.5 }),
    path: 'changes.0.evidence.confidence',
    sentence: 'must be at most 1',
  },
  {
    kind: 'an empty list',
    body: changeSet({ changes: [] }),
    path: 'changes',
    sentence: 'must list at least 1 item',
  },
  {
    kind: 'an address that is not a URL',
    body: withEvidence({ url: 'ftp://example.com/file' }),
    path: 'changes.0.evidence.url',
    sentence: 'must be a URL such as https://example.com/page',
  },
  {
    kind: 'an unknown field',
    body: changeSet({ dryRun: true }),
    path: '(root)',
    sentence: 'has unknown field "dryRun"; check the spelling',
  },
  {
    kind: 'a list for the body',
    body: [changeSet({})],
    path: '(root)',
    sentence: 'must be an object; got a list',
  },
];

describe('a refused change set says what is wrong in words', () => {
  it.each(bodies)('$kind: 400 VALIDATION_FAILED, "$path $sentence"', async ({ body, path, sentence }) => {
    const res = await api(harness, 'POST', '/v1/changesets', { token: agentToken, body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    const subject = path === '(root)' ? 'it' : path;
    expect(res.body.error.message).toBe(`The change set is invalid: ${subject} ${sentence}`);
    expect(res.body.error.details).toEqual({ issues: [{ path, message: sentence }] });
  });
});

const queries: { kind: string; query: string; path: string; sentence: string }[] = [
  {
    kind: 'a value not among the options',
    query: 'status=sent_twice',
    path: 'status',
    sentence:
      'must be one of refused, pending, released, completed, sent, bounced, failed, rejected, expired, stopped; got "sent_twice"',
  },
  {
    kind: 'a fraction for a count',
    query: 'limit=2.5',
    path: 'limit',
    sentence: 'must be a whole number; got number 2.5',
  },
  { kind: 'a count below its minimum', query: 'limit=0', path: 'limit', sentence: 'must be at least 1' },
  { kind: 'an id that is not a UUID', query: 'agent=nobody', path: 'agent', sentence: 'must be a UUID' },
];

describe('a refused query says what is wrong in words', () => {
  it.each(queries)('$kind: 400 VALIDATION_FAILED, "$path $sentence"', async ({ query, path, sentence }) => {
    const res = await api(harness, 'GET', `/v1/admin/actions?${query}`, { token: adminToken });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toBe(`The actions query is invalid: ${path} ${sentence}`);
    expect(res.body.error.details).toEqual({ issues: [{ path, message: sentence }] });
  });
});

describe('the CLI words a refused option the same way', () => {
  it('names the option and the values it takes', async () => {
    const { workspaceId } = await seedWorkspace(harness);
    const { code, json } = await cliOver(
      harness,
      'agents',
      'create',
      '--workspace',
      workspaceId,
      '--name',
      'n',
      '--role',
      'robot',
      '--json',
    );
    expect(code).toBe(1);
    expect(json.error).toEqual({
      code: 'VALIDATION_FAILED',
      message: '--role: must be one of prospecting, enrichment, outreach, routing, admin; got "robot"',
    });
  });
});

describe('an MCP tool words refused arguments the same way', () => {
  it('names the argument and what is wrong with it', async () => {
    const { isError, texts } = await callMcpTool(
      harness,
      agentToken,
      'propose_crm_changes',
      changeSet({ batchId: 'x'.repeat(201) }),
    );
    expect(isError).toBe(true);
    expect(texts.join('\n')).toContain(
      'The arguments of propose_crm_changes is invalid: batchId must be at most 200 characters long',
    );
  });
});
