import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, EXAMPLE_POLICY, seedWorkspace, startHarness, type Harness } from '../support/harness.ts';

interface Operation {
  operationId: string;
  security?: Record<string, unknown>[];
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
}

let harness: Harness;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let operations: { method: string; path: string; operation: Operation }[];

beforeAll(async () => {
  harness = await startHarness();
  ws = await seedWorkspace(harness, ['outreach']);
  const { body } = await api(harness, 'GET', '/v1/openapi.json');
  operations = Object.entries(body.paths as Record<string, Record<string, Operation>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
  );
});
afterAll(() => harness.close());

/** The documented path with each parameter filled by a value its schema accepts, or with the `id` given. */
function concretePath(path: string, id: string = randomUUID()): string {
  return path.replace('{id}', id).replace('{crmUserId}', '1001');
}

function call(
  { method, path, operation }: (typeof operations)[number],
  request: { path?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const admin = operation.security?.some((scheme) => 'adminToken' in scheme) ?? false;
  return api(harness, method, request.path ?? concretePath(path), {
    token: admin ? ws.adminToken : ws.agents[0]!.token,
    ...(request.body === undefined ? {} : { body: request.body }),
    ...(request.headers ? { headers: request.headers } : {}),
  });
}

describe('the OpenAPI document agents load as their tools', () => {
  // A contract: an operation may be added here, never renamed or dropped.
  it('documents exactly these operations', () => {
    expect(
      operations.map(({ method, path, operation }) => `${method} ${path} ${operation.operationId}`).sort(),
    ).toEqual(
      [
        'GET /v1/actions/{id} getAction',
        'GET /v1/admin/actions listActions',
        'GET /v1/admin/actions/{id} getActionForAdmin',
        'GET /v1/admin/agents listAgents',
        'GET /v1/admin/approvals listApprovals',
        'GET /v1/admin/approvals/{id} getApproval',
        'GET /v1/admin/audit/export exportAudit',
        'GET /v1/admin/audit/verify verifyAudit',
        'GET /v1/admin/delegations listDelegations',
        'GET /v1/admin/governance-requests listGovernanceRequests',
        'GET /v1/admin/kill-switches listKillSwitches',
        'GET /v1/admin/people listPeople',
        'GET /v1/admin/policies listPolicyVersions',
        'GET /v1/admin/policies/active getActivePolicy',
        'GET /v1/admin/qa/error-rates getQaErrorRates',
        'GET /v1/admin/qa/reviews listQaReviews',
        'GET /v1/admin/rollbacks/{id} getRollback',
        'GET /v1/admin/rollbacks/{id}/report getRollbackReport',
        'GET /v1/changesets/{id} getChangeSet',
        'POST /v1/actions submitAction',
        'POST /v1/actions/{id}/outcome reportActionOutcome',
        'POST /v1/actions/{id}/verify verifyActionRelease',
        'POST /v1/admin/actions/{id}/decisions decideAction',
        'POST /v1/admin/agents createAgent',
        'POST /v1/admin/agents/{id}/delegations createDelegation',
        'POST /v1/admin/agents/{id}/pause pauseAgent',
        'POST /v1/admin/agents/{id}/resume resumeAgent',
        'POST /v1/admin/agents/{id}/revoke revokeAgent',
        'POST /v1/admin/approvals/decisions decideApprovals',
        'POST /v1/admin/creations/{id}/decisions decideCreation',
        'POST /v1/admin/delegations/{id}/revoke revokeDelegation',
        'POST /v1/admin/associations/{id}/decisions decideAssociation',
        'POST /v1/records/read readRecords',
        'POST /v1/admin/approvals/{id}/decisions decideApproval',
        'POST /v1/admin/audit/verify verifyAuditWithCheckpoints',
        'POST /v1/admin/console-links createConsoleLink',
        'POST /v1/admin/bootstrap bootstrapWorkspace',
        'POST /v1/admin/governance-requests/{id}/cancel cancelGovernanceRequest',
        'POST /v1/admin/governance-requests/{id}/confirm confirmGovernanceRequest',
        'POST /v1/admin/kill-triggers/drill drillKillTrigger',
        'POST /v1/admin/policies publishPolicy',
        'POST /v1/admin/qa/reviews/{id}/verdict reviewQa',
        'POST /v1/admin/rollbacks createRollback',
        'POST /v1/admin/rollbacks/{id}/pause pauseRollback',
        'POST /v1/admin/rollbacks/{id}/resume resumeRollback',
        'POST /v1/changesets submitChangeSet',
        'PUT /v1/admin/kill-switches setKillSwitch',
        'PUT /v1/admin/people/{crmUserId} setPerson',
        'DELETE /v1/admin/siem-destinations/{id} removeSiemDestination',
        'GET /v1/admin/siem-destinations listSiemDestinations',
        'POST /v1/admin/siem-destinations addSiemDestination',
        'POST /v1/admin/workspace/connections connectCrm',
        'DELETE /v1/admin/workspace/connections/{crm} disconnectCrm',
        'DELETE /v1/admin/alert-channels/{id} removeAlertChannel',
        'GET /v1/admin/alert-channels listAlertChannels',
        'POST /v1/admin/alert-channels addAlertChannel',
        'DELETE /v1/admin/alert-rules/{id} removeAlertRule',
        'GET /v1/admin/alert-rules listAlertRules',
        'POST /v1/admin/alert-rules addAlertRule',
        'GET /v1/admin/alerts listAlerts',
        'GET /v1/admin/agents/{id}/regression-set getRegressionSet',
        'PUT /v1/admin/agents/{id}/regression-set putRegressionSet',
        'POST /v1/admin/agents/{id}/regression-runs runRegressionSet',
        'GET /v1/admin/agents/{id}/safety getAgentSafety',
        'POST /v1/admin/agents/{id}/change-acceptances acceptAgentChange',
        'GET /v1/admin/retention getRetention',
        'PUT /v1/admin/retention setRetention',
        'POST /v1/admin/erasures erasePerson',
        'GET /v1/admin/reviews listRecordReviews',
        'POST /v1/admin/reviews/clear clearRecordReview',
      ].sort(),
    );
  });

  it('documents the refusals each operation can answer: 401 always, 400 where it reads input, 404 where it takes an id', () => {
    const undocumented = operations.flatMap(({ method, path, operation }) => {
      const statuses = Object.keys(operation.responses);
      const readsInput =
        operation.requestBody !== undefined || (operation.parameters ?? []).some((p) => p.in !== 'path');
      return [
        ...(statuses.includes('401') ? [] : [`${method} ${path} 401`]),
        ...(readsInput && !statuses.includes('400') ? [`${method} ${path} 400`] : []),
        ...(path.includes('{id}') && !statuses.includes('404') ? [`${method} ${path} 404`] : []),
      ];
    });
    expect(undocumented).toEqual([]);
  });

  it('documents the 423 every agent operation answers while the workspace kill switch suspends agent tokens', async () => {
    const switched = await seedWorkspace(harness, ['outreach']);
    const engage = (engaged: boolean) =>
      api(harness, 'PUT', '/v1/admin/kill-switches', {
        token: switched.adminToken,
        body: { scope: 'workspace', engaged, reason: 'Contract check.' },
      });
    const agentOperations = operations.filter(({ operation }) => operation.security === undefined);
    expect(agentOperations.length).toBeGreaterThan(5);
    expect((await engage(true)).status).toBe(200);
    const undocumented = [];
    for (const { method, path, operation } of agentOperations) {
      const res = await api(harness, method, concretePath(path), {
        token: switched.agents[0]!.token,
        ...(operation.requestBody === undefined ? {} : { body: {} }),
      });
      expect([res.status, res.body.error.code], `${method} ${path}`).toEqual([423, 'KILL_SWITCH_ENGAGED']);
      if (!('423' in operation.responses)) undocumented.push(`${method} ${path}`);
    }
    expect((await engage(false)).status).toBe(200);
    expect(undocumented).toEqual([]);
  });

  it('documents the 429 each operation a budget gates answers once a budget is used up', async () => {
    const budgeted = await seedWorkspace(harness, ['enrichment']);
    const token = budgeted.agents[0]!.token;
    const published = await api(harness, 'POST', '/v1/admin/policies', {
      token: budgeted.adminToken,
      body: { ...(EXAMPLE_POLICY as object), budgets: { spendPerAgentPerDay: { amount: 1, currency: 'USD' } } },
    });
    expect(published.status).toBe(201);
    const evidence = { source: 'clearbit', reason: 'Contract check.', cost: { amount: 1, currency: 'USD' } };
    const changeSet = (batchId: string) => ({
      batchId,
      objectType: 'contacts',
      changes: [{ recordId: '1', properties: { jobtitle: 'CTO' }, evidence }],
    });
    // Spends the whole budget (the record need not exist: the cost is spent on the request).
    await api(harness, 'POST', '/v1/changesets', { token, body: changeSet('spends-the-budget') });
    const gated = [
      { method: 'POST', path: '/v1/changesets', body: changeSet('over-budget') },
      {
        method: 'POST',
        path: '/v1/actions',
        body: { kind: 'create_note', objectType: 'contacts', recordId: '1', body: 'A note.', evidence },
      },
      { method: 'POST', path: '/v1/records/read', body: { objectType: 'contacts', recordIds: ['1'] } },
    ];
    for (const { method, path, body } of gated) {
      const res = await api(harness, method, path, { token, body });
      expect([res.status, res.body.error.code], `${method} ${path}`).toEqual([429, 'BUDGET_REACHED']);
      const operation = operations.find((route) => route.method === method && route.path === path)!.operation;
      expect(Object.keys(operation.responses), `${method} ${path}`).toContain('429');
    }
  });

  it('documents the 502 each operation that reads the CRM for an agent answers when the CRM refuses our credentials', async () => {
    const refused = await seedWorkspace(harness, ['enrichment', 'outreach'], 'pat-na1-not-the-portal-token');
    const [enrichment, outreach] = refused.agents;
    const base = EXAMPLE_POLICY as { objects: { contacts: object } };
    const published = await api(harness, 'POST', '/v1/admin/policies', {
      token: refused.adminToken,
      body: {
        ...base,
        objects: { ...base.objects, contacts: { ...base.objects.contacts, read: { jobtitle: { '*': 'full' } } } },
      },
    });
    expect(published.status).toBe(201);
    const evidence = { source: 'clearbit', reason: 'Contract check.' };
    const calling = [
      {
        path: '/v1/changesets',
        token: enrichment!.token,
        body: {
          batchId: 'b',
          objectType: 'contacts',
          changes: [{ recordId: '1', properties: { jobtitle: 'CTO' }, evidence }],
        },
      },
      { path: '/v1/records/read', token: enrichment!.token, body: { objectType: 'contacts', recordIds: ['1'] } },
      {
        path: '/v1/actions',
        token: outreach!.token,
        body: { kind: 'create_task', objectType: 'contacts', recordId: '1', subject: 'Call back', evidence },
      },
    ];
    for (const { path, token, body } of calling) {
      const res = await api(harness, 'POST', path, { token, body });
      expect([res.status, res.body.error.code], path).toEqual([502, 'CRM_AUTH_FAILED']);
      const operation = operations.find((route) => route.method === 'POST' && route.path === path)!.operation;
      expect(Object.keys(operation.responses), path).toContain('502');
    }
  });

  it('refuses a body that breaks the documented schema, on every route that takes one, before doing anything', async () => {
    const withBody = operations.filter(({ operation }) => operation.requestBody !== undefined);
    expect(withBody.length).toBeGreaterThan(15);
    for (const route of withBody) {
      const res = await call(route, { body: ['not', 'the', 'documented', 'object'] });
      const expected = route.path === '/v1/admin/policies' ? 'POLICY_INVALID' : 'VALIDATION_FAILED';
      expect([res.status, res.body.error.code], `${route.method} ${route.path}`).toEqual([400, expected]);
    }
  });

  it('refuses a query parameter the documented query does not name, on every route that documents a query', async () => {
    const withQuery = operations.filter(({ operation }) => operation.parameters?.some((p) => p.in === 'query'));
    expect(withQuery.length).toBeGreaterThan(5);
    for (const route of withQuery) {
      const res = await call(route, { path: `${concretePath(route.path)}?notDocumented=1` });
      expect([res.status, res.body.error.code], `${route.method} ${route.path}`).toEqual([400, 'VALIDATION_FAILED']);
      expect(res.body.error.message, `${route.method} ${route.path}`).toContain('notDocumented');
    }
  });

  it('answers a path id that is not a uuid as an unknown id, 404, on every route that documents one', async () => {
    const withId = operations.filter(({ path }) => path.includes('{id}'));
    expect(withId.length).toBeGreaterThan(15);
    for (const route of withId) {
      const res = await call(route, {
        path: concretePath(route.path, 'not-a-uuid'),
        ...(route.operation.requestBody === undefined ? {} : { body: {} }),
      });
      expect([res.status, res.body.error.code], `${route.method} ${route.path}`).toEqual([404, 'NOT_FOUND']);
    }
  });

  it('refuses an Idempotency-Key the documented header does not allow, on every route that documents one', async () => {
    const withKey = operations.filter(({ operation }) =>
      operation.parameters?.some((p) => p.in === 'header' && p.name === 'idempotency-key'),
    );
    expect(withKey.map(({ path }) => path).sort()).toEqual(['/v1/actions', '/v1/changesets']);
    for (const route of withKey) {
      const res = await call(route, { body: {}, headers: { 'idempotency-key': 'has spaces' } });
      expect([res.status, res.body.error.code], route.path).toEqual([400, 'VALIDATION_FAILED']);
      expect(res.body.error.message).toContain('Idempotency-Key');
    }
  });
});
