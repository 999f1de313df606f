import { type Request, Router } from 'express';
import {
  AGENT_STATUS_AFTER,
  agentStatusChangeSchema,
  createAgentSchema,
  createDelegationSchema,
  clearRecordReviewSchema,
  killSwitchChangeSchema,
} from '../../../shared/admin-api.ts';
import { changeAcceptanceSchema, regressionSetSchema } from '../../../shared/agent-safety-api.ts';
import { createAlertChannelSchema, createAlertRuleSchema, recentAlertsQuerySchema } from '../../../shared/alert-api.ts';
import { crmUserIdParamSchema, setPersonSchema } from '../../../shared/approval-api.ts';
import { overviewQuerySchema } from '../../../shared/console-settings-api.ts';
import { retentionPeriodsSchema } from '../../../shared/retention-api.ts';
import { createSiemDestinationSchema } from '../../../shared/siem-api.ts';
import {
  type ExtensionPermissions,
  policyVersionParamSchema,
  publishPolicyBodySchema,
  setTeamRoleSchema,
  teamIdParamSchema,
} from '../../../shared/extension-api.ts';
import { AppError } from '../errors.ts';
import {
  addAlertChannel,
  addAlertRule,
  listRecentAlerts,
  listWorkspaceAlertChannels,
  listWorkspaceAlertRules,
  removeAlertChannel,
  removeAlertRule,
} from '../services/alerts/index.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { authenticateConsoleSession, overviewView } from '../services/console/index.ts';
import {
  personActor,
  removePersonRoleFromApp,
  removeTeamRoleFromApp,
  requirePermission,
  setPersonRoleFromApp,
  setTeamRoleFromApp,
  settingsView,
} from '../services/extension/index.ts';
import {
  acceptAgentChange,
  agentSafetyView,
  createAgent,
  createDelegation,
  endDelegation,
  getRegressionSet,
  putRegressionSet,
  runRegressionSet,
  decideGovernanceRequest,
  listLiveDelegations,
  policyVersion,
  publishPolicy,
  restorePolicyVersion,
  setKillSwitch,
  clearRecordReview,
  setAgentStatus,
} from '../services/governance/index.ts';
import { setRetention, showRetention } from '../services/retention/index.ts';
import { addSiemDestination, listWorkspaceSiemDestinations, removeSiemDestination } from '../services/siem/index.ts';
import { type ConsoleOrigin, refuseCrossSiteWrites, sessionToken } from './console-session.ts';
import { parseInput } from './errors.ts';
import { idParam } from './params.ts';

type Permission = Exclude<keyof ExtensionPermissions, 'role' | 'decide'>;

/**
 * The web console's Settings and Overview (issue 19). The same services as the HubSpot settings
 * page, with the person from the console's session; every permission is checked here whatever
 * the console chose to show.
 */
export function consoleSettingsRoutes(deps: ServiceDeps, origin: ConsoleOrigin = {}): Router {
  const router = Router();
  const authenticate = (req: Request) => authenticateConsoleSession(deps, sessionToken(req));
  const permitted = async (req: Request, permission: Permission, what: string) => {
    const authenticated = await authenticate(req);
    requirePermission(authenticated.caller, authenticated.caller.permissions[permission], what);
    return authenticated;
  };
  const managing = (req: Request) => permitted(req, 'managePeople', 'change who has which role');

  router.use('/console/api', refuseCrossSiteWrites(origin));

  router.get('/console/api/settings', async (req, res) => {
    res.json(await settingsView(deps, await authenticate(req)));
  });

  router.get('/console/api/overview', async (req, res) => {
    const authenticated = await authenticate(req);
    res.json(await overviewView(deps, authenticated, parseInput(overviewQuerySchema, req.query, 'The overview query')));
  });

  router.get('/console/api/teams', async (req, res) => {
    const { workspace } = await managing(req);
    res.json({ teams: await deps.crmFor(workspace).listTeams() });
  });

  router.get('/console/api/policies/:version', async (req, res) => {
    const { workspace } = await permitted(req, 'readSettings', 'read the governance settings');
    const version = parseInput(policyVersionParamSchema, req.params.version, 'The policy version');
    res.json(await policyVersion(deps, workspace.id, version));
  });

  // A change dual control holds answers 409 SECOND_ADMIN_REQUIRED, naming the request to confirm.
  router.post('/console/api/policies', async (req, res) => {
    const authenticated = await permitted(req, 'publishPolicy', 'publish a policy');
    const { document, basedOn } = parseInput(publishPolicyBodySchema, req.body, 'The policy');
    res
      .status(201)
      .json(await publishPolicy(deps, authenticated.workspace.id, document, personActor(authenticated), { basedOn }));
  });

  router.post('/console/api/policies/:version/restore', async (req, res) => {
    const authenticated = await permitted(req, 'publishPolicy', 'restore a policy version');
    const version = parseInput(policyVersionParamSchema, req.params.version, 'The policy version');
    res
      .status(201)
      .json(await restorePolicyVersion(deps, authenticated.workspace.id, version, personActor(authenticated)));
  });

  router.get('/console/api/retention', async (req, res) => {
    const { workspace } = await permitted(req, 'readSettings', 'read the governance settings');
    res.json(await showRetention(deps, workspace.id));
  });

  // Shortening a period deletes data at the next run: those who may publish the policy set it.
  router.put('/console/api/retention', async (req, res) => {
    const authenticated = await permitted(req, 'publishPolicy', 'change how long data is kept');
    const periods = parseInput(retentionPeriodsSchema, req.body, 'The retention periods');
    res.json(await setRetention(deps, authenticated.workspace.id, periods, personActor(authenticated)));
  });

  // Audit streaming and alerts (issue 22): the admin API's services, the person as actor. Where the audit
  // trail goes and who is told are governance settings: those who may publish the policy change them,
  // those who read settings see them (no view carries a secret).
  const configuring = (req: Request, what: string) => permitted(req, 'publishPolicy', what);
  const reading = (req: Request) => permitted(req, 'readSettings', 'read the governance settings');

  router.get('/console/api/siem-destinations', async (req, res) => {
    const { workspace } = await reading(req);
    res.json({ destinations: await listWorkspaceSiemDestinations(deps, workspace.id) });
  });

  router.post('/console/api/siem-destinations', async (req, res) => {
    const authenticated = await configuring(req, 'add a SIEM destination');
    const destination = parseInput(createSiemDestinationSchema, req.body, 'The SIEM destination');
    res
      .status(201)
      .json(await addSiemDestination(deps, authenticated.workspace.id, destination, personActor(authenticated)));
  });

  router.delete('/console/api/siem-destinations/:id', async (req, res) => {
    const authenticated = await configuring(req, 'remove a SIEM destination');
    const id = idParam(req.params.id, 'SIEM destination');
    await removeSiemDestination(deps, authenticated.workspace.id, id, personActor(authenticated));
    res.status(204).end();
  });

  router.get('/console/api/alert-channels', async (req, res) => {
    const { workspace } = await reading(req);
    res.json({ channels: await listWorkspaceAlertChannels(deps, workspace.id) });
  });

  router.post('/console/api/alert-channels', async (req, res) => {
    const authenticated = await configuring(req, 'add an alert channel');
    const channel = parseInput(createAlertChannelSchema, req.body, 'The alert channel');
    res.status(201).json(await addAlertChannel(deps, authenticated.workspace.id, channel, personActor(authenticated)));
  });

  // A channel a rule still uses answers 409 CONFLICT, its sentence naming those rules.
  router.delete('/console/api/alert-channels/:id', async (req, res) => {
    const authenticated = await configuring(req, 'remove an alert channel');
    const id = idParam(req.params.id, 'alert channel');
    await removeAlertChannel(deps, authenticated.workspace.id, id, personActor(authenticated));
    res.status(204).end();
  });

  router.get('/console/api/alert-rules', async (req, res) => {
    const { workspace } = await reading(req);
    res.json({ rules: await listWorkspaceAlertRules(deps, workspace.id) });
  });

  router.post('/console/api/alert-rules', async (req, res) => {
    const authenticated = await configuring(req, 'add an alert rule');
    const rule = parseInput(createAlertRuleSchema, req.body, 'The alert rule');
    res.status(201).json(await addAlertRule(deps, authenticated.workspace.id, rule, personActor(authenticated)));
  });

  router.delete('/console/api/alert-rules/:id', async (req, res) => {
    const authenticated = await configuring(req, 'remove an alert rule');
    const id = idParam(req.params.id, 'alert rule');
    await removeAlertRule(deps, authenticated.workspace.id, id, personActor(authenticated));
    res.status(204).end();
  });

  router.get('/console/api/alerts', async (req, res) => {
    const { workspace } = await reading(req);
    const { limit } = parseInput(recentAlertsQuerySchema, req.query, 'The alerts query');
    res.json({ alerts: await listRecentAlerts(deps, workspace.id, limit) });
  });

  router.put('/console/api/kill-switches', async (req, res) => {
    const authenticated = await permitted(req, 'setKillSwitches', 'engage or release a kill switch');
    const change = parseInput(killSwitchChangeSchema, req.body, 'The kill switch');
    res.json(await setKillSwitch(deps, authenticated.workspace.id, change, personActor(authenticated)));
  });

  // Those who may undo agents' writes may also say a quarantined record is fine (issue 21).
  router.post('/console/api/reviews/clear', async (req, res) => {
    const authenticated = await permitted(req, 'rollBack', 'clear a record’s review');
    const record = parseInput(clearRecordReviewSchema, req.body, 'The record');
    res.json(await clearRecordReview(deps, authenticated.workspace.id, record, personActor(authenticated)));
  });

  // The agent's bearer token is in this answer only; the console shows it once.
  router.post('/console/api/agents', async (req, res) => {
    const authenticated = await permitted(req, 'manageAgents', 'create an agent');
    const agent = parseInput(createAgentSchema, req.body, 'The agent');
    res.status(201).json(await createAgent(deps, authenticated.workspace.id, agent, personActor(authenticated)));
  });

  router.get('/console/api/delegations', async (req, res) => {
    const { workspace } = await permitted(req, 'readSettings', 'read the governance settings');
    res.json({ delegations: await listLiveDelegations(deps, workspace.id) });
  });

  router.post('/console/api/agents/:id/delegations', async (req, res) => {
    const authenticated = await permitted(req, 'manageAgents', 'let an agent act for a person');
    const body = parseInput(createDelegationSchema, req.body, 'The delegation');
    res
      .status(201)
      .json(
        await createDelegation(
          deps,
          authenticated.workspace.id,
          { agentId: idParam(req.params.id, 'agent'), crmUserId: body.crmUserId, expiresAt: new Date(body.expiresAt) },
          personActor(authenticated),
        ),
      );
  });

  router.post('/console/api/delegations/:id/revoke', async (req, res) => {
    const authenticated = await permitted(req, 'manageAgents', 'end a delegation');
    res.json(
      await endDelegation(
        deps,
        authenticated.workspace.id,
        idParam(req.params.id, 'delegation'),
        personActor(authenticated),
      ),
    );
  });

  // Safe re-enable and gates on change (issue 21); before the status route, which would take their last segment as an action.
  router.get('/console/api/agents/:id/safety', async (req, res) => {
    const { workspace } = await permitted(req, 'readSettings', 'read the governance settings');
    res.json(await agentSafetyView(deps, workspace.id, idParam(req.params.id, 'agent')));
  });

  router.get('/console/api/agents/:id/regression-set', async (req, res) => {
    const { workspace } = await permitted(req, 'readSettings', 'read the governance settings');
    res.json(await getRegressionSet(deps, workspace.id, idParam(req.params.id, 'agent')));
  });

  router.put('/console/api/agents/:id/regression-set', async (req, res) => {
    const authenticated = await permitted(req, 'manageAgents', 'change an agent’s regression set');
    const set = parseInput(regressionSetSchema, req.body, 'The regression set');
    const agentId = idParam(req.params.id, 'agent');
    res.json(await putRegressionSet(deps, authenticated.workspace.id, agentId, set, personActor(authenticated)));
  });

  router.post('/console/api/agents/:id/regression-runs', async (req, res) => {
    const { workspace } = await permitted(req, 'readSettings', 'read the governance settings');
    res.json(await runRegressionSet(deps, workspace.id, idParam(req.params.id, 'agent')));
  });

  router.post('/console/api/agents/:id/change-acceptances', async (req, res) => {
    const authenticated = await permitted(req, 'manageAgents', 'accept an agent’s change');
    const acceptance = parseInput(changeAcceptanceSchema, req.body, 'The acceptance');
    const agentId = idParam(req.params.id, 'agent');
    res.json(
      await acceptAgentChange(deps, authenticated.workspace.id, agentId, acceptance, personActor(authenticated)),
    );
  });

  router.post('/console/api/agents/:id/:action', async (req, res) => {
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

  router.put('/console/api/people/:crmUserId', async (req, res) => {
    const authenticated = await managing(req);
    const crmUserId = parseInput(crmUserIdParamSchema, req.params.crmUserId, 'The CRM user id');
    const { role, crmOwnerId } = parseInput(setPersonSchema, req.body, 'The person');
    res.json(await setPersonRoleFromApp(deps, authenticated, { crmUserId, role, crmOwnerId }));
  });

  router.delete('/console/api/people/:crmUserId', async (req, res) => {
    const authenticated = await managing(req);
    const crmUserId = parseInput(crmUserIdParamSchema, req.params.crmUserId, 'The CRM user id');
    res.json(await removePersonRoleFromApp(deps, authenticated, crmUserId));
  });

  router.put('/console/api/team-roles/:teamId', async (req, res) => {
    const authenticated = await managing(req);
    const teamId = parseInput(teamIdParamSchema, req.params.teamId, 'The team id');
    const { role } = parseInput(setTeamRoleSchema, req.body, 'The team role');
    res.json(await setTeamRoleFromApp(deps, authenticated, { teamId, role }));
  });

  router.delete('/console/api/team-roles/:teamId', async (req, res) => {
    const authenticated = await managing(req);
    const teamId = parseInput(teamIdParamSchema, req.params.teamId, 'The team id');
    res.json(await removeTeamRoleFromApp(deps, authenticated, teamId));
  });

  // Dual control: a second admin confirms (or anyone with the right cancels) what waits; never the one who asked.
  router.post('/console/api/governance-requests/:id/:decision', async (req, res) => {
    const decision = req.params.decision;
    if (decision !== 'confirm' && decision !== 'cancel')
      throw new AppError('NOT_FOUND', `No route ${req.method} ${req.path}.`);
    const { workspace, caller, person } = await permitted(
      req,
      'confirmGovernance',
      `${decision} a change that waits for a second admin`,
    );
    res.json(
      await decideGovernanceRequest(deps, {
        workspaceId: workspace.id,
        requestId: idParam(req.params.id, 'governance request'),
        actingUserId: caller.userId,
        decision,
        via: 'console',
        person,
      }),
    );
  });

  return router;
}
