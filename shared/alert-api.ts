import { z } from 'zod';
import { safeText, text } from './safe-text.ts';
import { siemUrlSchema } from './siem-api.ts';

/** Alerts to people (issue 22, part 3): where they go (channels) and what raises them (rules). */

export const ALERT_CHANNEL_KINDS = ['slack', 'teams', 'email', 'webhook'] as const;
export type AlertChannelKind = (typeof ALERT_CHANNEL_KINDS)[number];

const email = z.email().max(254);

const channelName = { name: text(100) };

export const createAlertChannelSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      ...channelName,
      kind: z.literal('slack').describe('A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat…).'),
      url: siemUrlSchema.describe('The incoming webhook URL; a secret in itself, so stored sealed and never returned.'),
    }),
    z.strictObject({
      ...channelName,
      kind: z.literal('teams').describe('A Microsoft Teams incoming webhook (or a Workflows webhook).'),
      url: siemUrlSchema.describe('The webhook URL; stored sealed and never returned.'),
    }),
    z.strictObject({
      ...channelName,
      kind: z.literal('webhook').describe('A JSON POST signed with HMAC-SHA256 exactly as the SIEM webhook is.'),
      url: siemUrlSchema.describe('Stored sealed and never returned.'),
      secret: safeText.min(32).max(1_000).describe('The signing secret, 32 characters or more; never returned.'),
    }),
    z.strictObject({
      ...channelName,
      kind: z.literal('email'),
      smtp: z.strictObject({
        host: text(253),
        port: z.number().int().min(1).max(65_535).default(587),
        secure: z
          .boolean()
          .default(false)
          .describe('true: TLS from the start (port 465); false: STARTTLS when offered.'),
        user: text(254).optional(),
        password: safeText.min(1).max(1_000).optional().describe('Stored sealed and never returned.'),
      }),
      from: email,
      to: z.array(email).min(1).max(50),
    }),
  ])
  .meta({ id: 'CreateAlertChannel' });
export type CreateAlertChannel = z.infer<typeof createAlertChannelSchema>;

/** What a channel shows of itself: nothing secret (no URL, no password). */
export const alertChannelSettingsSchema = z.strictObject({
  smtpHost: safeText.optional(),
  smtpPort: z.number().int().optional(),
  smtpSecure: z.boolean().optional(),
  smtpUser: safeText.optional(),
  from: safeText.optional(),
  to: z.array(safeText).optional(),
});
export type AlertChannelSettings = z.infer<typeof alertChannelSettingsSchema>;

export const alertChannelViewSchema = z
  .strictObject({
    id: z.uuid(),
    name: safeText,
    kind: z.enum(ALERT_CHANNEL_KINDS),
    settings: alertChannelSettingsSchema,
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'AlertChannel' });
export type AlertChannelView = z.infer<typeof alertChannelViewSchema>;

export const ALERT_RULE_KINDS = [
  'kill_switch_engaged',
  'kill_trigger_fired',
  'bypass_writes',
  'crm_auth_failed',
  'siem_destination_down',
  'rejection_rate',
  'qa_error_rate',
  'approvals_waiting',
  'approvals_unwritten',
  'api_budget',
] as const;
export type AlertRuleKind = (typeof ALERT_RULE_KINDS)[number];

const rate = z.number().gt(0).max(1);
const lookbackMinutes = z
  .number()
  .int()
  .min(5)
  .max(7 * 24 * 60)
  .default(24 * 60);

/** What each kind of rule watches; the kinds that watch the audit chain take no parameters. */
export const alertRuleParamsSchema = z.strictObject({
  threshold: rate
    .optional()
    .describe(
      'rejection_rate, qa_error_rate: the share (0–1] of an agent’s decided proposals or reviewed samples that raises the alert; api_budget: the share of an agent’s daily write cap used.',
    ),
  minCount: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .optional()
    .describe('rejection_rate, qa_error_rate: decided proposals or reviewed samples needed before a rate counts.'),
  lookbackMinutes: lookbackMinutes
    .optional()
    .describe(
      'rejection_rate, qa_error_rate: how far back the rate is counted; approvals_unwritten: how far back a stale approval counts.',
    ),
  hours: z
    .number()
    .gt(0)
    .max(24 * 30)
    .optional()
    .describe(
      'approvals_waiting: an approval pending longer than this raises the alert; approvals_unwritten: an approval approved this long ago whose values are not in the CRM (its write failed, or it went stale) raises it.',
    ),
});
export type AlertRuleParams = z.infer<typeof alertRuleParamsSchema>;

export const createAlertRuleSchema = z
  .strictObject({
    name: text(100),
    kind: z
      .enum(ALERT_RULE_KINDS)
      .describe(
        'kill_switch_engaged (by hand or a trigger), kill_trigger_fired, bypass_writes, crm_auth_failed, siem_destination_down: watch the audit chain; rejection_rate, qa_error_rate, approvals_waiting, approvals_unwritten, api_budget: checked every minute.',
      ),
    params: alertRuleParamsSchema.default({}),
    channels: z
      .array(text(100))
      .min(1)
      .max(20)
      .describe('The channels (by name or id) each alert of this rule goes to.'),
    windowMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(60)
      .describe('One alert per subject (an agent, a kill switch, a destination…) per this many minutes.'),
    startFrom: z
      .enum(['now', 'beginning'])
      .default('now')
      .describe(
        'Rules that watch the audit chain: now (default) looks only at events after this rule; beginning at the whole chain.',
      ),
  })
  .superRefine((input, ctx) => {
    const needs = (key: keyof AlertRuleParams, why: string) => {
      if (input.params[key] === undefined) ctx.addIssue({ code: 'custom', path: ['params', key], message: why });
    };
    if (input.kind === 'rejection_rate' || input.kind === 'qa_error_rate')
      needs('threshold', `a ${input.kind} rule needs its threshold, a share between 0 and 1`);
    if (input.kind === 'approvals_waiting')
      needs('hours', 'an approvals_waiting rule needs the hours an approval may wait');
    if (input.kind === 'approvals_unwritten')
      needs('hours', 'an approvals_unwritten rule needs the hours an approved value may take to reach the CRM');
  })
  .meta({ id: 'CreateAlertRule' });
export type CreateAlertRule = z.infer<typeof createAlertRuleSchema>;

export const alertRuleViewSchema = z
  .strictObject({
    id: z.uuid(),
    name: safeText,
    kind: z.enum(ALERT_RULE_KINDS),
    params: alertRuleParamsSchema,
    channelIds: z.array(z.uuid()),
    windowMinutes: z.number().int(),
    cursorSeq: z.number().int().describe('Rules that watch the audit chain: the last seq looked at.'),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'AlertRule' });
export type AlertRuleView = z.infer<typeof alertRuleViewSchema>;

export const alertDeliveryViewSchema = z
  .strictObject({
    id: z.uuid(),
    channelId: z.uuid(),
    rule: safeText,
    subject: safeText,
    title: safeText,
    link: safeText,
    status: z.enum(['pending', 'sent', 'failed']),
    attempts: z.number().int(),
    lastError: safeText.nullable(),
    raisedAt: z.iso.datetime(),
    sentAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'AlertDelivery' });
export type AlertDeliveryView = z.infer<typeof alertDeliveryViewSchema>;

/** How many of the newest alerts to list (the admin API's and the console's). */
export const recentAlertsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});
