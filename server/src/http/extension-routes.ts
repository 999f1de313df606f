import express, { Router } from 'express';
import { killSwitchChangeSchema } from '../../../shared/admin-api.ts';
import { createRollbackSchema } from '../../../shared/rollback-api.ts';
import {
  auditSearchQuerySchema,
  cardQuerySchema,
  extensionDecisionSchema,
  proxyOnlyQuerySchema,
  publishPolicyBodySchema,
} from '../../../shared/extension-api.ts';
import { decideApproval } from '../services/held/index.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import {
  personActor,
  auditSearch,
  cardView,
  homeView,
  requirePermission,
  settingsView,
} from '../services/extension/index.ts';
import { setKillSwitch, publishPolicy } from '../services/governance/index.ts';
import { dryRunRollback, startRollback, getRollback } from '../services/rollbacks/index.ts';
import { parseInput } from './errors.ts';
import { extensionDecisionRoutes } from './extension-decision-routes.ts';
import { extensionAuthenticator, jsonBody, type ExtensionRouteOptions } from './extension-request.ts';
import { extensionSettingsRoutes } from './extension-settings-routes.ts';
import { idParam } from './params.ts';

/**
 * The backend of the HubSpot app (issue 8), under /v1/extension. Mounted before the JSON parser:
 * HubSpot's signature covers the raw body, so every route reads it raw, verifies, then parses.
 */
export function extensionRoutes(deps: ServiceDeps, options: ExtensionRouteOptions): Router {
  const router = Router();
  router.use(express.raw({ type: () => true, limit: options.maxBodyBytes }));

  const authenticate = extensionAuthenticator(deps, options);

  router.get('/card', async (req, res) => {
    const { workspace, caller } = await authenticate(req);
    res.json(await cardView(deps, workspace, caller, parseInput(cardQuerySchema, req.query, 'The card query')));
  });

  router.post('/approvals/:id/decisions', async (req, res) => {
    const authenticated = await authenticate(req);
    const { workspace, caller } = authenticated;
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    const approvalId = idParam(req.params.id, 'approval');
    const decision = parseInput(extensionDecisionSchema, jsonBody(req), 'The decision');
    res.json(
      await decideApproval(deps, {
        workspace,
        approvalId,
        request: { ...decision, actingUserId: caller.userId },
        via: 'hubspot_app',
        person: authenticated.person,
      }),
    );
  });

  router.get('/settings', async (req, res) => {
    const authenticated = await authenticate(req);
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    res.json(await settingsView(deps, authenticated));
  });

  router.post('/policies', async (req, res) => {
    const authenticated = await authenticate(req);
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    requirePermission(authenticated.caller, authenticated.caller.permissions.publishPolicy, 'publish a policy');
    const { document, basedOn } = parseInput(publishPolicyBodySchema, jsonBody(req), 'The policy');
    res
      .status(201)
      .json(await publishPolicy(deps, authenticated.workspace.id, document, personActor(authenticated), { basedOn }));
  });

  router.put('/kill-switches', async (req, res) => {
    const authenticated = await authenticate(req);
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    requirePermission(
      authenticated.caller,
      authenticated.caller.permissions.setKillSwitches,
      'engage or release a kill switch',
    );
    const change = parseInput(killSwitchChangeSchema, jsonBody(req), 'The kill switch');
    res.json(await setKillSwitch(deps, authenticated.workspace.id, change, personActor(authenticated)));
  });

  router.get('/home', async (req, res) => {
    const { workspace, caller } = await authenticate(req);
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    res.json(await homeView(deps, workspace, caller));
  });

  router.get('/audit', async (req, res) => {
    const { workspace, caller } = await authenticate(req);
    const query = parseInput(auditSearchQuerySchema, req.query, 'The audit search');
    res.json(
      await auditSearch(deps, workspace, caller, {
        batchId: query.batch,
        recordId: query.record,
        agentId: query.agent,
        limit: query.limit,
      }),
    );
  });

  // Rollbacks are issue 7's: a dry run answers with the plan, a real one starts the job (202) and is followed by id.
  router.post('/rollbacks', async (req, res) => {
    const authenticated = await authenticate(req);
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    requirePermission(authenticated.caller, authenticated.caller.permissions.rollBack, 'roll back agents’ changes');
    const request = parseInput(createRollbackSchema, jsonBody(req), 'The rollback');
    if (request.dryRun) res.json(await dryRunRollback(deps, authenticated.workspace.id, request));
    else
      res.status(202).json(await startRollback(deps, authenticated.workspace.id, request, personActor(authenticated)));
  });

  router.get('/rollbacks/:id', async (req, res) => {
    const { workspace, caller } = await authenticate(req);
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    requirePermission(caller, caller.permissions.rollBack || caller.permissions.searchAudit, 'follow a rollback');
    res.json(await getRollback(deps, workspace.id, idParam(req.params.id, 'rollback')));
  });

  router.use(extensionSettingsRoutes(deps, authenticate));

  router.use(extensionDecisionRoutes(deps, authenticate));

  return router;
}
