import { Router, type Response } from 'express';
import {
  AGENT_STATUS_AFTER,
  agentStatusChangeSchema,
  auditExportQuerySchema,
  auditVerifyRequestSchema,
  createAgentSchema,
  createDelegationSchema,
  killSwitchChangeSchema,
  killTriggerDrillSchema,
} from '../../../shared/admin-api.ts';
import {
  createAgent,
  createDelegation,
  listWorkspaceAgents,
  setAgentStatus,
  exportAudit,
  verifyAudit,
  bootstrapWorkspace,
  listWorkspaceKillSwitches,
  setKillSwitch,
  drillKillTrigger,
  activePolicy,
  policyHistory,
  publishPolicy,
} from '../services/governance/index.ts';
import type { Actor, ServiceDeps } from '../services/common/index.ts';
import { AppError } from '../errors.ts';
import { adminWorkspaceFromRequest } from './auth.ts';
import { parseInput } from './errors.ts';
import { idParam } from './params.ts';

const ADMIN: Actor = { type: 'admin', via: 'api', name: 'workspace-admin-token' };

/** The admin API the settings page and scripts use; the workspace is the admin token's. */
export function adminRoutes(deps: ServiceDeps, options: { checkpointPublicKey?: string | undefined } = {}): Router {
  const router = Router();

  router.post('/v1/admin/policies', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.status(201).json(await publishPolicy(deps, workspace.id, req.body, ADMIN));
  });
  router.get('/v1/admin/policies', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json({ versions: await policyHistory(deps, workspace.id) });
  });
  router.get('/v1/admin/policies/active', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json(await activePolicy(deps.db, workspace.id));
  });

  router.post('/v1/admin/agents', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res
      .status(201)
      .json(await createAgent(deps, workspace.id, parseInput(createAgentSchema, req.body, 'The agent'), ADMIN));
  });
  router.get('/v1/admin/agents', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json({ agents: await listWorkspaceAgents(deps, workspace.id) });
  });
  router.post('/v1/admin/agents/:id/:action', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const agentId = idParam(req.params.id, 'agent');
    if (req.params.action === 'delegations') {
      const body = parseInput(createDelegationSchema, req.body, 'The delegation');
      res
        .status(201)
        .json(
          await createDelegation(
            deps,
            workspace.id,
            { agentId, crmUserId: body.crmUserId, expiresAt: new Date(body.expiresAt) },
            ADMIN,
          ),
        );
      return;
    }
    const action = parseInput(agentStatusChangeSchema, req.params.action, 'The agent action');
    res.json(await setAgentStatus(deps, workspace.id, agentId, AGENT_STATUS_AFTER[action], ADMIN));
  });

  router.get('/v1/admin/kill-switches', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json({ killSwitches: await listWorkspaceKillSwitches(deps, workspace.id) });
  });
  router.put('/v1/admin/kill-switches', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json(
      await setKillSwitch(
        deps,
        workspace.id,
        parseInput(killSwitchChangeSchema, req.body, 'The kill switch change'),
        ADMIN,
      ),
    );
  });

  // A drill (issue 6): runs a trigger's rule over synthetic counts and says what it would engage.
  router.post('/v1/admin/kill-triggers/drill', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json(await drillKillTrigger(deps, workspace.id, parseInput(killTriggerDrillSchema, req.body, 'The drill')));
  });

  router.post('/v1/admin/bootstrap', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json(await bootstrapWorkspace(deps, workspace.id, ADMIN));
  });

  router.get('/v1/admin/audit/verify', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json(await verifyAudit(deps, workspace.id));
  });
  // With the checkpoint file's lines (issue 17): also checks the chain against each signed checkpoint.
  router.post('/v1/admin/audit/verify', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const body = parseInput(auditVerifyRequestSchema, req.body, 'The checkpoints');
    const trustedPublicKeys = [
      ...(options.checkpointPublicKey ? [options.checkpointPublicKey] : []),
      ...(body.publicKeys ?? []),
    ];
    if (trustedPublicKeys.length === 0)
      throw new AppError(
        'VALIDATION_FAILED',
        'This server has no checkpoint key: give publicKeys, the key(s) the checkpoints were signed with.',
      );
    res.json(await verifyAudit(deps, workspace.id, { checkpoints: body.checkpoints, trustedPublicKeys }));
  });
  router.get('/v1/admin/audit/export', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const query = parseInput(auditExportQuerySchema, req.query, 'The export query');
    res.type(query.format === 'csv' ? 'text/csv' : 'application/x-ndjson');
    const filter = {
      agentId: query.agent,
      batchId: query.batch,
      recordId: query.record,
      from: date(query.from),
      to: date(query.to),
    };
    await streamTo(res, exportAudit(deps, workspace.id, filter, query.format));
  });

  return router;
}

function date(value: string | undefined): Date | undefined {
  return value === undefined ? undefined : new Date(value);
}

async function streamTo(res: Response, chunks: AsyncIterable<string>): Promise<void> {
  for await (const chunk of chunks) {
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}
