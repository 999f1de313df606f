import { z } from 'zod';
import {
  alertChannelViewSchema,
  alertDeliveryViewSchema,
  alertRuleViewSchema,
  createAlertChannelSchema,
  createAlertRuleSchema,
  recentAlertsQuerySchema,
} from '../../../shared/alert-api.ts';
import {
  addAlertChannel,
  addAlertRule,
  listRecentAlerts,
  listWorkspaceAlertChannels,
  listWorkspaceAlertRules,
  removeAlertChannel,
  removeAlertRule,
} from '../services/alerts/index.ts';
import type { Actor } from '../services/common/index.ts';
import { defineRoute, errorResponses, json } from './route.ts';

const ADMIN: Actor = { type: 'admin', via: 'api', name: 'workspace-admin-token' };

const errors = errorResponses({
  400: 'The channel, rule or query is invalid (VALIDATION_FAILED, MALFORMED_JSON).',
  401: 'Missing or unknown admin token (UNAUTHENTICATED).',
  404: 'No such channel or rule in this workspace (NOT_FOUND).',
  409: 'A channel or rule of that name exists, or the channel is still used by a rule (CONFLICT).',
  422: 'The URL or SMTP host names an address this server does not send to, loopback, private or link-local, unless OUTBOUND_ALLOWED_NETWORKS allows it (DESTINATION_NOT_ALLOWED).',
});

/** Alerts to people (issue 22, part 3): where alerts go, what raises them, and what was sent; secrets go in, never out. */
export const alertRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/admin/alert-channels',
    operationId: 'addAlertChannel',
    summary:
      'Send alerts to a Slack-compatible or Microsoft Teams incoming webhook, by email over SMTP, or to a webhook signed with HMAC-SHA256.',
    security: 'admin',
    body: { schema: createAlertChannelSchema, what: 'The alert channel' },
    responses: {
      '201': {
        description: 'The channel; its URL and secrets are never returned.',
        content: json(alertChannelViewSchema),
      },
      ...errors(400, 401, 409, 422),
    },
    handle: async ({ caller: workspace, body, context: { deps } }, res) => {
      res.status(201).json(await addAlertChannel(deps, workspace.id, body, ADMIN));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/alert-channels',
    operationId: 'listAlertChannels',
    summary: 'The workspace’s alert channels, with their non-secret settings.',
    security: 'admin',
    responses: {
      '200': { description: 'The channels.', content: json(z.object({ channels: z.array(alertChannelViewSchema) })) },
      ...errors(401),
    },
    handle: async ({ caller: workspace, context: { deps } }, res) => {
      res.json({ channels: await listWorkspaceAlertChannels(deps, workspace.id) });
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/admin/alert-channels/{id}',
    operationId: 'removeAlertChannel',
    summary: 'Remove a channel no rule uses any more; the removal is an audit event.',
    security: 'admin',
    params: { id: { rowOf: 'alert channel' } },
    responses: { '204': { description: 'Removed.' }, ...errors(401, 404, 409) },
    handle: async ({ caller: workspace, params, context: { deps } }, res) => {
      await removeAlertChannel(deps, workspace.id, params.id, ADMIN);
      res.status(204).end();
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/admin/alert-rules',
    operationId: 'addAlertRule',
    summary:
      'Alert people when a kill switch is engaged or a kill trigger fires, on bypass writes, CRM auth failures, a SIEM destination down, an agent’s rejection or QA error rate over a threshold, approvals waiting too long, or a daily write cap nearly spent.',
    security: 'admin',
    body: { schema: createAlertRuleSchema, what: 'The alert rule' },
    responses: {
      '201': { description: 'The rule.', content: json(alertRuleViewSchema) },
      ...errors(400, 401, 404, 409),
    },
    handle: async ({ caller: workspace, body, context: { deps } }, res) => {
      res.status(201).json(await addAlertRule(deps, workspace.id, body, ADMIN));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/alert-rules',
    operationId: 'listAlertRules',
    summary: 'The workspace’s alert rules.',
    security: 'admin',
    responses: {
      '200': { description: 'The rules.', content: json(z.object({ rules: z.array(alertRuleViewSchema) })) },
      ...errors(401),
    },
    handle: async ({ caller: workspace, context: { deps } }, res) => {
      res.json({ rules: await listWorkspaceAlertRules(deps, workspace.id) });
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/admin/alert-rules/{id}',
    operationId: 'removeAlertRule',
    summary: 'Stop raising this rule’s alerts; the removal is an audit event.',
    security: 'admin',
    params: { id: { rowOf: 'alert rule' } },
    responses: { '204': { description: 'Removed.' }, ...errors(401, 404) },
    handle: async ({ caller: workspace, params, context: { deps } }, res) => {
      await removeAlertRule(deps, workspace.id, params.id, ADMIN);
      res.status(204).end();
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/admin/alerts',
    operationId: 'listAlerts',
    summary: 'The newest alerts raised, one row per channel: sent, still being tried, or given up.',
    security: 'admin',
    query: { schema: recentAlertsQuerySchema, what: 'The alerts query' },
    responses: {
      '200': {
        description: 'The alerts, newest first.',
        content: json(z.object({ alerts: z.array(alertDeliveryViewSchema) })),
      },
      ...errors(400, 401),
    },
    handle: async ({ caller: workspace, query, context: { deps } }, res) => {
      res.json({ alerts: await listRecentAlerts(deps, workspace.id, query.limit) });
    },
  }),
];
