import { Router } from 'express';
import {
  approvalDecisionSchema,
  approvalListQuerySchema,
  batchApprovalDecisionSchema,
  crmUserIdParamSchema,
  setPersonSchema,
} from '../../../shared/approval-api.ts';
import { findApprovals, getApproval, decideApproval, decideApprovalsBatch } from '../services/held/index.ts';
import type { Actor, ServiceDeps } from '../services/common/index.ts';
import { listWorkspacePeople, setPersonRole } from '../services/governance/index.ts';
import { adminWorkspaceFromRequest } from './auth.ts';
import { parseInput } from './errors.ts';
import { idParam } from './params.ts';

const ADMIN: Actor = { type: 'admin', via: 'api', name: 'workspace-admin-token' };

/**
 * Approvals and the people who decide them (issue 5). The admin token vouches for the caller
 * until issue 8 has HubSpot sign requests from the record card; the person deciding is named by
 * `actingUserId` and their role comes from `people`.
 */
export function approvalRoutes(deps: ServiceDeps): Router {
  const router = Router();

  router.get('/v1/admin/people', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json({ people: await listWorkspacePeople(deps, workspace.id) });
  });
  router.put('/v1/admin/people/:crmUserId', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const crmUserId = parseInput(crmUserIdParamSchema, req.params.crmUserId, 'The CRM user id');
    const { role, crmOwnerId } = parseInput(setPersonSchema, req.body, 'The person');
    res.json(await setPersonRole(deps, workspace.id, { crmUserId, role, crmOwnerId }, ADMIN));
  });

  router.get('/v1/admin/approvals', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const query = parseInput(approvalListQuerySchema, req.query, 'The approvals query');
    res.json({
      approvals: await findApprovals(deps, workspace.id, {
        recordId: query.record,
        batchId: query.batch,
        agentId: query.agent,
        status: query.status,
        kind: query.kind,
        limit: query.limit,
      }),
    });
  });
  router.post('/v1/admin/approvals/decisions', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const request = parseInput(batchApprovalDecisionSchema, req.body, 'The batch decision');
    res.json(await decideApprovalsBatch(deps, { workspace, request, via: 'admin_api' }));
  });
  router.get('/v1/admin/approvals/:id', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    res.json(await getApproval(deps, workspace.id, idParam(req.params.id, 'approval')));
  });
  router.post('/v1/admin/approvals/:id/decisions', async (req, res) => {
    const workspace = await adminWorkspaceFromRequest(deps, req);
    const id = idParam(req.params.id, 'approval');
    const request = parseInput(approvalDecisionSchema, req.body, 'The decision');
    res.json(await decideApproval(deps, { workspace, approvalId: id, request }));
  });

  return router;
}
