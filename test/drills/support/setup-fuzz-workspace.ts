/**
 * The fuzz drill's workspace, set up in one process before the server starts (PGlite allows one
 * process at a time): connected to the sandbox, the example policy, an agent, HubSpot properties,
 * and an owner who signs the HubSpot app's requests. Prints `{workspaceId, adminToken, agentToken, agentId}`.
 */
import fs from 'node:fs';
import { loadConfig } from '../../../server/src/config.ts';
import { openRuntime } from '../../../server/src/runtime.ts';
import { createAgent } from '../../../server/src/services/agents.ts';
import { bootstrapWorkspace } from '../../../server/src/services/bootstrap.ts';
import type { Actor } from '../../../server/src/services/deps.ts';
import { setPersonRole } from '../../../server/src/services/people.ts';
import { publishPolicy } from '../../../server/src/services/policies.ts';
import { createWorkspace } from '../../../server/src/services/workspaces.ts';

const ADMIN: Actor = { type: 'admin', via: 'cli', name: 'fuzz-setup' };
const [portalId, hubspotToken, ownerUserId] = process.argv.slice(2);
if (portalId === undefined || hubspotToken === undefined || ownerUserId === undefined) throw new Error('usage: setup-fuzz-workspace.ts PORTAL_ID HUBSPOT_TOKEN OWNER_USER_ID');

const runtime = await openRuntime(loadConfig(), 'the fuzz drill setup');
try {
  const workspace = await createWorkspace(runtime.deps, { name: 'Fuzz', hubspotPortalId: portalId, hubspotToken }, ADMIN);
  await publishPolicy(runtime.deps, workspace.id, JSON.parse(fs.readFileSync('examples/policy.json', 'utf8')), ADMIN);
  const agent = await createAgent(runtime.deps, workspace.id, { name: 'fuzz-enricher', role: 'enrichment' }, ADMIN);
  await bootstrapWorkspace(runtime.deps, workspace.id, ADMIN);
  await setPersonRole(runtime.deps, workspace.id, { crmUserId: ownerUserId, role: 'owner' }, ADMIN);
  process.stdout.write(`${JSON.stringify({ workspaceId: workspace.id, adminToken: workspace.adminToken, agentToken: agent.token, agentId: agent.id })}\n`);
} finally {
  await runtime.close();
}
