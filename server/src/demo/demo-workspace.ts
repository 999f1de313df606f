import fs from 'node:fs';
import type { Logger } from '../logger.ts';
import {
  createAgent,
  bootstrapWorkspace,
  setPersonRole,
  publishPolicy,
  createWorkspace,
  findWorkspaceForPortal,
} from '../services/governance/index.ts';
import type { Actor, ServiceDeps } from '../services/common/index.ts';
import { demoFiles } from './demo-files.ts';
import { parseJson } from '../../../shared/json-text.ts';

const DEMO_ACTOR: Actor = { type: 'admin', via: 'cli', name: 'demo-setup' };
/** A sandbox user (one of its record owners) who may approve what the demo agents propose. */
export const DEMO_APPROVER = '1001';
const EXAMPLE_POLICY = new URL('../../../examples/policy.json', import.meta.url);

export interface DemoWorkspace {
  workspaceId: string;
  /** Only until a start has shown them (the one that created the workspace, unless it stopped first): the tokens to show once. */
  created?: { adminToken: string; enrichmentToken: string; outreachToken: string };
}

/**
 * Connects the sandbox's portal as the demo workspace once, with the example policy and an
 * enrichment and an outreach agent; later starts find it and change nothing. Bootstrap runs on
 * every start because it is idempotent and the sandbox file may have been deleted meanwhile.
 */
export async function ensureDemoWorkspace(input: {
  deps: ServiceDeps;
  dataDir: string;
  portalId: string;
  hubspotToken: string;
  /** The secret the sandbox signs webhooks with, kept as the workspace's client secret so the intake (issue 6) can verify them. */
  webhookSecret: string | undefined;
  logger: Logger;
}): Promise<DemoWorkspace> {
  const { deps } = input;
  const existing = await findWorkspaceForPortal(deps, input.portalId);
  let result: DemoWorkspace;
  const files = demoFiles(input.dataDir);
  if (existing) {
    const notShown = files.readTokensNotShown();
    result = { workspaceId: existing.id, ...(notShown ? { created: notShown } : {}) };
  } else {
    const workspace = await createWorkspace(
      deps,
      {
        name: 'Demo (local HubSpot sandbox)',
        hubspotPortalId: input.portalId,
        hubspotToken: input.hubspotToken,
        hubspotClientSecret: input.webhookSecret,
      },
      DEMO_ACTOR,
    );
    await publishPolicy(deps, workspace.id, parseJson(fs.readFileSync(EXAMPLE_POLICY, 'utf8')), DEMO_ACTOR);
    await setPersonRole(deps, workspace.id, { crmUserId: DEMO_APPROVER, role: 'approver' }, DEMO_ACTOR);
    const enrichment = await createAgent(deps, workspace.id, { name: 'demo-enricher', role: 'enrichment' }, DEMO_ACTOR);
    const outreach = await createAgent(deps, workspace.id, { name: 'demo-outreach', role: 'outreach' }, DEMO_ACTOR);
    files.writeSecrets({
      adminToken: workspace.adminToken,
      enrichmentToken: enrichment.token,
      outreachToken: outreach.token,
    });
    result = {
      workspaceId: workspace.id,
      created: { adminToken: workspace.adminToken, enrichmentToken: enrichment.token, outreachToken: outreach.token },
    };
  }
  const bootstrap = await bootstrapWorkspace(deps, result.workspaceId, DEMO_ACTOR);
  input.logger.info('demo workspace ready', {
    workspaceId: result.workspaceId,
    created: existing === undefined,
    propertiesCreated: bootstrap.objects.reduce((n, o) => n + o.created.length, 0),
  });
  return result;
}
