import { Router, type Request } from 'express';
import { AGENT_STATUS_AFTER, agentStatusChangeSchema, createAgentSchema } from '../../../shared/admin-api.ts';
import { changeAcceptanceSchema, regressionSetSchema } from '../../../shared/agent-safety-api.ts';
import { crmUserIdParamSchema, setPersonSchema } from '../../../shared/approval-api.ts';
import {
  policyVersionParamSchema,
  proxyOnlyQuerySchema,
  setTeamRoleSchema,
  teamIdParamSchema,
  type ExtensionPermissions,
} from '../../../shared/extension-api.ts';
import { retentionPeriodsSchema } from '../../../shared/retention-api.ts';
import { AppError } from '../errors.ts';
import {
  acceptAgentChange,
  agentSafetyView,
  createAgent,
  getRegressionSet,
  putRegressionSet,
  runRegressionSet,
  setAgentStatus,
  decideGovernanceRequest,
  restorePolicyVersion,
} from '../services/governance/index.ts';
import { setRetention, showRetention } from '../services/retention/index.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import {
  personActor,
  type ExtensionCaller,
  removePersonRoleFromApp,
  removeTeamRoleFromApp,
  setPersonRoleFromApp,
  setTeamRoleFromApp,
  requirePermission,
} from '../services/extension/index.ts';
import { parseInput } from './errors.ts';
import { jsonBody } from './extension-request.ts';
import { idParam } from './params.ts';

type Permission = Exclude<keyof ExtensionPermissions, 'role' | 'decide'>;

/**
 * The settings page's administration through the HubSpot app (issue 8): roles by HubSpot user
 * and team, HubSpot's teams to pick from, confirming what dual control holds, agents, and
 * restoring a policy version; each agent's safety and regression set, and retention (issues 19
 * and 21: the console's settings, with the same services and permissions). Mounted inside extensionRoutes, after its raw-body parser, with its
 * authenticator.
 */
export function extensionSettingsRoutes(
  deps: ServiceDeps,
  authenticate: (req: Request) => Promise<ExtensionCaller>,
): Router {
  const router = Router();
  const permitted = async (req: Request, permission: Permission, what: string) => {
    const authenticated = await authenticate(req);
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    requirePermission(authenticated.caller, authenticated.caller.permissions[permission], what);
    return authenticated;
  };
  const managing = (req: Request) => permitted(req, 'managePeople', 'change who has which role');

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
    res.json(
      await removePersonRoleFromApp(
        deps,
        authenticated,
        parseInput(crmUserIdParamSchema, req.params.crmUserId, 'The HubSpot user id'),
      ),
    );
  });

  router.put('/team-roles/:teamId', async (req, res) => {
    const authenticated = await managing(req);
    const teamId = parseInput(teamIdParamSchema, req.params.teamId, 'The HubSpot team id');
    const { role } = parseInput(setTeamRoleSchema, jsonBody(req), 'The team role');
    res.json(await setTeamRoleFromApp(deps, authenticated, { teamId, role }));
  });

  router.delete('/team-roles/:teamId', async (req, res) => {
    const authenticated = await managing(req);
    res.json(
      await removeTeamRoleFromApp(
        deps,
        authenticated,
        parseInput(teamIdParamSchema, req.params.teamId, 'The HubSpot team id'),
      ),
    );
  });

  // The agent's bearer token is in this answer only; the page shows it once.
  router.post('/agents', async (req, res) => {
    const authenticated = await permitted(req, 'manageAgents', 'create an agent');
    const agent = parseInput(createAgentSchema, jsonBody(req), 'The agent');
    res.status(201).json(await createAgent(deps, authenticated.workspace.id, agent, personActor(authenticated)));
  });

  // Safe re-enable and gates on change (issue 21); before the status route, which would take their last segment as an action.
  router.get('/agents/:id/safety', async (req, res) => {
    const { workspace } = await permitted(req, 'readSettings', 'read the governance settings');
    res.json(await agentSafetyView(deps, workspace.id, idParam(req.params.id, 'agent')));
  });

  router.get('/agents/:id/regression-set', async (req, res) => {
    const { workspace } = await permitted(req, 'readSettings', 'read the governance settings');
    res.json(await getRegressionSet(deps, workspace.id, idParam(req.params.id, 'agent')));
  });

  router.put('/agents/:id/regression-set', async (req, res) => {
    const authenticated = await permitted(req, 'manageAgents', 'change an agent’s regression set');
    const set = parseInput(regressionSetSchema, jsonBody(req), 'The regression set');
    const agentId = idParam(req.params.id, 'agent');
    res.json(await putRegressionSet(deps, authenticated.workspace.id, agentId, set, personActor(authenticated)));
  });

  router.post('/agents/:id/regression-runs', async (req, res) => {
    const { workspace } = await permitted(req, 'readSettings', 'read the governance settings');
    res.json(await runRegressionSet(deps, workspace.id, idParam(req.params.id, 'agent')));
  });

  router.post('/agents/:id/change-acceptances', async (req, res) => {
    const authenticated = await permitted(req, 'manageAgents', 'accept an agent’s change');
    const acceptance = parseInput(changeAcceptanceSchema, jsonBody(req), 'The acceptance');
    const agentId = idParam(req.params.id, 'agent');
    res.json(
      await acceptAgentChange(deps, authenticated.workspace.id, agentId, acceptance, personActor(authenticated)),
    );
  });

  router.post('/agents/:id/:action', async (req, res) => {
    const authenticated = await permitted(req, 'manageAgents', 'pause, resume or revoke an agent');
    const action = parseInput(agentStatusChangeSchema, req.params.action, 'The agent action');
    res.json(
      await setAgentStatus(
        deps,
        authenticated.workspace.id,
        idParam(req.params.id, 'agent'),
        AGENT_STATUS_AFTER[action],
        personActor(authenticated),
      ),
    );
  });

  // Publishes the old document as a new version, so dual control answers 409 as for any publish.
  router.post('/policies/:version/restore', async (req, res) => {
    const authenticated = await permitted(req, 'publishPolicy', 'restore a policy version');
    const version = parseInput(policyVersionParamSchema, req.params.version, 'The policy version');
    res
      .status(201)
      .json(await restorePolicyVersion(deps, authenticated.workspace.id, version, personActor(authenticated)));
  });

  router.get('/retention', async (req, res) => {
    const { workspace } = await permitted(req, 'readSettings', 'read the governance settings');
    res.json(await showRetention(deps, workspace.id));
  });

  // Shortening a period deletes data at the next run: those who may publish the policy set it.
  router.put('/retention', async (req, res) => {
    const authenticated = await permitted(req, 'publishPolicy', 'change how long data is kept');
    const periods = parseInput(retentionPeriodsSchema, jsonBody(req), 'The retention periods');
    res.json(await setRetention(deps, authenticated.workspace.id, periods, personActor(authenticated)));
  });

  // Dual control (issue 5): the second admin confirms in the app; the person is the signed one.
  router.post('/governance-requests/:id/:decision', async (req, res) => {
    const authenticated = await authenticate(req);
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    const decision = req.params.decision;
    if (decision !== 'confirm' && decision !== 'cancel')
      throw new AppError('NOT_FOUND', `No route ${req.method} ${req.path}.`);
    const requestId = idParam(req.params.id, 'governance request');
    requirePermission(
      authenticated.caller,
      authenticated.caller.permissions.confirmGovernance,
      `${decision} a change that waits for a second admin`,
    );
    const { workspace, caller, person } = authenticated;
    res.json(
      await decideGovernanceRequest(deps, {
        workspaceId: workspace.id,
        requestId,
        actingUserId: caller.userId,
        decision,
        via: 'hubspot_app',
        person,
      }),
    );
  });

  return router;
}
