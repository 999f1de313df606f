import { Router, type Request } from 'express';
import { z } from 'zod';
import { crmUserIdParamSchema, setPersonSchema } from '../../../shared/approval-api.ts';
import { proxyOnlyQuerySchema, setTeamRoleSchema, teamIdParamSchema } from '../../../shared/extension-api.ts';
import { AppError } from '../errors.ts';
import { decideGovernanceRequest } from '../services/confirm-governance.ts';
import type { ServiceDeps } from '../services/deps.ts';
import type { ExtensionCaller } from '../services/extension-caller.ts';
import { removePersonRoleFromApp, removeTeamRoleFromApp, setPersonRoleFromApp, setTeamRoleFromApp } from '../services/extension-people.ts';
import { requirePermission } from '../services/extension-views.ts';
import { parseInput } from './errors.ts';
import { jsonBody } from './extension-request.ts';

/**
 * The settings page's administration through the HubSpot app (issue 8): roles by HubSpot user
 * and team, HubSpot's teams to pick from, and confirming what dual control holds. Mounted inside
 * extensionRoutes, after its raw-body parser, with its authenticator.
 */
export function extensionSettingsRoutes(deps: ServiceDeps, authenticate: (req: Request) => Promise<ExtensionCaller>): Router {
  const router = Router();
  const managing = async (req: Request) => {
    const authenticated = await authenticate(req);
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    requirePermission(authenticated.caller, authenticated.caller.permissions.managePeople, 'change who has which role');
    return authenticated;
  };

  router.get('/teams', async (req, res) => {
    const { workspace } = await managing(req);
    res.json({ teams: await deps.crmFor(workspace).listTeams() });
  });

  router.put('/people/:crmUserId', async (req, res) => {
    const authenticated = await managing(req);
    const crmUserId = parseInput(crmUserIdParamSchema, req.params.crmUserId, 'The HubSpot user id');
    const { role, crmOwnerId } = parseInput(setPersonSchema, jsonBody(req), 'The person');
    res.json(await setPersonRoleFromApp(deps, authenticated, { crmUserId, role, crmOwnerId }));
  });

  router.delete('/people/:crmUserId', async (req, res) => {
    const authenticated = await managing(req);
    res.json(await removePersonRoleFromApp(deps, authenticated, parseInput(crmUserIdParamSchema, req.params.crmUserId, 'The HubSpot user id')));
  });

  router.put('/team-roles/:teamId', async (req, res) => {
    const authenticated = await managing(req);
    const teamId = parseInput(teamIdParamSchema, req.params.teamId, 'The HubSpot team id');
    const { role } = parseInput(setTeamRoleSchema, jsonBody(req), 'The team role');
    res.json(await setTeamRoleFromApp(deps, authenticated, { teamId, role }));
  });

  router.delete('/team-roles/:teamId', async (req, res) => {
    const authenticated = await managing(req);
    res.json(await removeTeamRoleFromApp(deps, authenticated, parseInput(teamIdParamSchema, req.params.teamId, 'The HubSpot team id')));
  });

  // Dual control (issue 5): the second admin confirms in the app; the person is the signed one.
  router.post('/governance-requests/:id/:decision', async (req, res) => {
    const authenticated = await authenticate(req);
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    const decision = req.params.decision;
    if ((decision !== 'confirm' && decision !== 'cancel') || !z.uuid().safeParse(req.params.id).success) throw new AppError('NOT_FOUND', `No route ${req.method} ${req.path}.`);
    requirePermission(authenticated.caller, authenticated.caller.permissions.confirmGovernance, `${decision} a change that waits for a second admin`);
    const { workspace, caller, person } = authenticated;
    res.json(await decideGovernanceRequest(deps, { workspaceId: workspace.id, requestId: req.params.id, actingUserId: caller.userId, decision, via: 'hubspot_app', person }));
  });

  return router;
}
