import fs from 'node:fs';
import { demoFiles } from './demo-files.ts';
import type { Logger } from '../logger.ts';
import { newId } from '../sandbox/salesforce/state.ts';
import {
  SANDBOX_SALESFORCE_CLIENT,
  startSalesforceSandbox,
  type RunningSalesforceSandbox,
} from '../sandbox/salesforce/start.ts';
import type { Actor, ServiceDeps } from '../services/common/index.ts';
import {
  bootstrapWorkspace,
  createAgent,
  createSalesforceWorkspace,
  findWorkspaceForPortal,
  publishPolicy,
  setPersonRole,
} from '../services/governance/index.ts';
import { parseJson } from '../../../shared/json-text.ts';

const DEMO_ACTOR: Actor = { type: 'admin', via: 'cli', name: 'demo-setup' };
const EXAMPLE_POLICY = new URL('../../../examples/salesforce-policy.json', import.meta.url);
/** The local Salesforce's admin, a person: the owner of its seeded records and the demo's approver there. */
export const DEMO_SALESFORCE_APPROVER = newId('005', 1);

export interface SalesforceDemo {
  sandbox: RunningSalesforceSandbox;
  workspaceId: string;
  /** Only until a start has shown them (the one that created the workspace, unless it stopped first): the tokens to show once. */
  created?: { adminToken: string; enrichmentToken: string };
}

/**
 * The Salesforce half of demo mode (issue 20): the local Salesforce in this process (in memory,
 * so freshly seeded on every start, on a fixed port so the stored connection finds it again) and
 * a workspace connected to it once, with the example Salesforce policy, an approver and an
 * enrichment agent. Bootstrap runs on every start: the org it made the fields in is gone.
 */
export async function startSalesforceDemo(input: {
  deps: ServiceDeps;
  /** Where the new workspace's tokens wait (0600) until a start shows them. */
  dataDir: string;
  port: number;
  logger: Logger;
  /**
   * Told the local Salesforce's URL once it listens, before its workspace is connected: a server
   * reaches loopback only where OUTBOUND_ALLOWED_NETWORKS allows it, save this one origin it started itself.
   */
  started: (url: string) => void;
}): Promise<SalesforceDemo> {
  const sandbox = await startSalesforceSandbox({ port: input.port }).catch((error: unknown) => {
    const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
    throw new Error(
      inUse
        ? `The Salesforce sandbox cannot listen on port ${input.port}: it is in use. Set SALESFORCE_SANDBOX_PORT, or leave DEMO_SALESFORCE off.`
        : String(error),
      { cause: error },
    );
  });
  try {
    input.started(sandbox.url);
    const { deps } = input;
    // The local Salesforce's org id is the same on every start (its ids are numbered): the demo finds its workspace again.
    const existing = await findWorkspaceForPortal(deps, `salesforce:${sandbox.orgId}`);
    let demo: SalesforceDemo;
    const files = demoFiles(input.dataDir);
    if (existing) {
      const notShown = files.readSalesforceTokensNotShown();
      demo = { sandbox, workspaceId: existing.id, ...(notShown ? { created: notShown } : {}) };
    } else {
      const workspace = await createSalesforceWorkspace(
        deps,
        {
          name: 'Demo (local Salesforce sandbox)',
          connection: {
            loginUrl: sandbox.url,
            auth: { kind: 'client_credentials', ...SANDBOX_SALESFORCE_CLIENT },
          },
        },
        DEMO_ACTOR,
      );
      await publishPolicy(deps, workspace.id, parseJson(fs.readFileSync(EXAMPLE_POLICY, 'utf8')), DEMO_ACTOR);
      await setPersonRole(deps, workspace.id, { crmUserId: DEMO_SALESFORCE_APPROVER, role: 'approver' }, DEMO_ACTOR);
      const agent = await createAgent(deps, workspace.id, { name: 'demo-sf-enricher', role: 'enrichment' }, DEMO_ACTOR);
      const created = { adminToken: workspace.adminToken, enrichmentToken: agent.token };
      files.keepSalesforceTokensUntilShown(created);
      demo = { sandbox, workspaceId: workspace.id, created };
    }
    await bootstrapWorkspace(deps, demo.workspaceId, DEMO_ACTOR);
    input.logger.info('salesforce demo workspace ready', {
      workspaceId: demo.workspaceId,
      created: existing === undefined,
      url: sandbox.url,
      pubSubEndpoint: sandbox.pubSubEndpoint,
    });
    return demo;
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}
