/**
 * Connects a workspace to a running sandbox in one process, before the server starts: what
 * `workspace add`, `policy apply`, `agents create`, `bootstrap` (and, given OWNER_USER_ID,
 * `people set --role owner`) do from the CLI, without paying for several PGlite boots.
 * Prints `{workspaceId, adminToken, agentToken, agentId}` as one JSON line.
 */
import fs from 'node:fs';
import { loadConfig } from '../../../server/src/config.ts';
import { openRuntime } from '../../../server/src/runtime.ts';
import {
  createAgent,
  bootstrapWorkspace,
  setPersonRole,
  publishPolicy,
  createWorkspace,
} from '../../../server/src/services/governance/index.ts';
import type { Actor } from '../../../server/src/services/common/index.ts';

const ADMIN: Actor = { type: 'admin', via: 'cli', name: 'e2e-setup' };
const [portalId, hubspotToken, ownerUserId] = process.argv.slice(2);
if (portalId === undefined || hubspotToken === undefined)
  throw new Error('usage: setup-workspace.ts PORTAL_ID HUBSPOT_TOKEN [OWNER_USER_ID]');

const runtime = await openRuntime(loadConfig(), 'the e2e setup');
try {
  const workspace = await createWorkspace(
    runtime.deps,
    { name: 'E2E', hubspotPortalId: portalId, hubspotToken },
    ADMIN,
  );
  await publishPolicy(runtime.deps, workspace.id, JSON.parse(fs.readFileSync('examples/policy.json', 'utf8')), ADMIN);
  const agent = await createAgent(runtime.deps, workspace.id, { name: 'e2e-enricher', role: 'enrichment' }, ADMIN);
  await bootstrapWorkspace(runtime.deps, workspace.id, ADMIN);
  if (ownerUserId !== undefined)
    await setPersonRole(runtime.deps, workspace.id, { crmUserId: ownerUserId, role: 'owner' }, ADMIN);
  process.stdout.write(
    `${JSON.stringify({ workspaceId: workspace.id, adminToken: workspace.adminToken, agentToken: agent.token, agentId: agent.id })}\n`,
  );
} finally {
  await runtime.close();
}
