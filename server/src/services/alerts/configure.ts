import type {
  AlertChannelSettings,
  AlertChannelView,
  AlertDeliveryView,
  AlertRuleView,
  CreateAlertChannel,
  CreateAlertRule,
} from '../../../../shared/alert-api.ts';
import type { ChannelSecrets } from '../../domain/alerts.ts';
import { watchesChain } from '../../domain/alerts.ts';
import { AppError } from '../../errors.ts';
import {
  type AlertChannelRow,
  type AlertRuleRow,
  deleteAlertChannel,
  deleteAlertRule,
  insertAlertChannel,
  insertAlertRule,
  listAlertChannels,
  listAlertDeliveries,
  listAlertRules,
} from '../../store/alert-store.ts';
import { readAuditHead } from '../../store/audit-store.ts';
import { actorJson, type Actor, isUuid, newId, type ServiceDeps, withAuditChain } from '../common/index.ts';

/**
 * Adds an alert channel (issue 22, part 3), as parsed by `createAlertChannelSchema`. Its URL and
 * secrets are sealed together like the CRM token and never returned; the audit event names the
 * channel, its kind and its non-secret settings only. A URL or SMTP host naming an address the
 * server does not send to is refused here; a host name, when used.
 */
export async function addAlertChannel(
  deps: ServiceDeps,
  workspaceId: string,
  parsed: CreateAlertChannel,
  actor: Actor,
): Promise<AlertChannelView> {
  if (parsed.kind === 'email')
    deps.outbound.assertConfigurable(parsed.smtp.host, { path: 'smtp.host', what: 'The SMTP host' });
  else deps.outbound.assertConfigurable(new URL(parsed.url).hostname, { path: 'url', what: "The channel's URL" });
  const { settings, secrets } = split(parsed);
  const row = await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    if ((await listAlertChannels(tx, workspaceId)).some((channel) => channel.name === parsed.name))
      throw new AppError('CONFLICT', `An alert channel named "${parsed.name}" already exists in this workspace.`);
    const stored = await insertAlertChannel(tx, {
      id: newId(),
      workspaceId,
      name: parsed.name,
      kind: parsed.kind,
      settings,
      secretsEnc: deps.secrets.seal(JSON.stringify(secrets)),
    });
    audit.append({
      type: 'alert_channel.added',
      actor: actorJson(actor),
      after: { id: stored.id, name: stored.name, kind: stored.kind, settings },
    });
    return stored;
  });
  return channelView(row);
}

function split(parsed: CreateAlertChannel): { settings: AlertChannelSettings; secrets: ChannelSecrets } {
  switch (parsed.kind) {
    case 'slack':
    case 'teams':
      return { settings: {}, secrets: { url: parsed.url } };
    case 'webhook':
      return { settings: {}, secrets: { url: parsed.url, secret: parsed.secret } };
    case 'email':
      return {
        settings: {
          smtpHost: parsed.smtp.host,
          smtpPort: parsed.smtp.port,
          smtpSecure: parsed.smtp.secure,
          ...(parsed.smtp.user === undefined ? {} : { smtpUser: parsed.smtp.user }),
          from: parsed.from,
          to: parsed.to,
        },
        secrets: parsed.smtp.password === undefined ? {} : { password: parsed.smtp.password },
      };
  }
}

export async function listWorkspaceAlertChannels(deps: ServiceDeps, workspaceId: string): Promise<AlertChannelView[]> {
  return (await listAlertChannels(deps.db, workspaceId)).map(channelView);
}

export async function removeAlertChannel(
  deps: ServiceDeps,
  workspaceId: string,
  channelId: string,
  actor: Actor,
): Promise<void> {
  await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const using = (await listAlertRules(tx, workspaceId)).filter((rule) => rule.channelIds.includes(channelId));
    if (using.length > 0) {
      const channel = (await listAlertChannels(tx, workspaceId)).find((candidate) => candidate.id === channelId);
      throw new AppError(
        'CONFLICT',
        `Alert channel "${channel?.name ?? channelId}" is used by the rules ${using.map((rule) => `"${rule.name}"`).join(', ')}: remove them first.`,
        { details: { rules: using.map((rule) => rule.name) } },
      );
    }
    const removed = isUuid(channelId) ? await deleteAlertChannel(tx, { workspaceId, id: channelId }) : undefined;
    if (!removed) throw new AppError('NOT_FOUND', `Alert channel ${channelId} does not exist in this workspace.`);
    audit.append({
      type: 'alert_channel.removed',
      actor: actorJson(actor),
      before: { id: removed.id, name: removed.name, kind: removed.kind },
    });
  });
}

/**
 * Adds an alert rule. Its channels are named or given by id; a rule that watches the audit chain
 * starts after the current head (or from the beginning), the others are checked at once.
 */
export async function addAlertRule(
  deps: ServiceDeps,
  workspaceId: string,
  parsed: CreateAlertRule,
  actor: Actor,
): Promise<AlertRuleView> {
  const row = await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    if ((await listAlertRules(tx, workspaceId)).some((rule) => rule.name === parsed.name))
      throw new AppError('CONFLICT', `An alert rule named "${parsed.name}" already exists in this workspace.`);
    const channels = await listAlertChannels(tx, workspaceId);
    const channelIds = parsed.channels.map((wanted) => {
      const channel = channels.find((c) => c.id === wanted || c.name === wanted);
      if (!channel) throw new AppError('NOT_FOUND', `Alert channel "${wanted}" does not exist in this workspace.`);
      return channel.id;
    });
    const head = await readAuditHead(tx, workspaceId);
    const stored = await insertAlertRule(tx, {
      id: newId(),
      workspaceId,
      name: parsed.name,
      kind: parsed.kind,
      params: parsed.params,
      channelIds: [...new Set(channelIds)],
      windowMinutes: parsed.windowMinutes,
      // The head as this transaction holds it locked: "now" sees the rule's own event on, nothing before.
      cursorSeq: watchesChain(parsed.kind) && parsed.startFrom === 'now' ? head.seq : 0,
      nextCheckAt: deps.clock(),
    });
    audit.append({
      type: 'alert_rule.added',
      actor: actorJson(actor),
      after: {
        id: stored.id,
        name: stored.name,
        kind: stored.kind,
        params: stored.params,
        channelIds: stored.channelIds,
        windowMinutes: stored.windowMinutes,
      },
    });
    return stored;
  });
  return ruleView(row);
}

export async function listWorkspaceAlertRules(deps: ServiceDeps, workspaceId: string): Promise<AlertRuleView[]> {
  return (await listAlertRules(deps.db, workspaceId)).map(ruleView);
}

export async function removeAlertRule(
  deps: ServiceDeps,
  workspaceId: string,
  ruleId: string,
  actor: Actor,
): Promise<void> {
  await withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const removed = isUuid(ruleId) ? await deleteAlertRule(tx, { workspaceId, id: ruleId }) : undefined;
    if (!removed) throw new AppError('NOT_FOUND', `Alert rule ${ruleId} does not exist in this workspace.`);
    audit.append({
      type: 'alert_rule.removed',
      actor: actorJson(actor),
      before: { id: removed.id, name: removed.name, kind: removed.kind },
    });
  });
}

/** The newest alerts sent or waiting, one row per alert and channel. */
export async function listRecentAlerts(
  deps: ServiceDeps,
  workspaceId: string,
  limit: number,
): Promise<AlertDeliveryView[]> {
  return (await listAlertDeliveries(deps.db, { workspaceId, limit })).map((row) => ({
    id: row.id,
    channelId: row.channelId,
    rule: row.alert.rule,
    subject: row.alert.subject,
    title: row.alert.title,
    link: row.alert.link,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    raisedAt: row.alert.raisedAt,
    sentAt: row.sentAt?.toISOString() ?? null,
  }));
}

function channelView(row: AlertChannelRow): AlertChannelView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    settings: row.settings,
    createdAt: row.createdAt.toISOString(),
  };
}

function ruleView(row: AlertRuleRow): AlertRuleView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    params: row.params,
    channelIds: row.channelIds,
    windowMinutes: row.windowMinutes,
    cursorSeq: row.cursorSeq,
    createdAt: row.createdAt.toISOString(),
  };
}
