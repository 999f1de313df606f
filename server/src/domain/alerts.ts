import type { AlertChannelKind, AlertRuleKind } from '../../../shared/alert-api.ts';
import type { ChainedAuditEvent, JsonObject } from './audit-chain.ts';
import { SHOWN_MAX, shownToPeople, slackMarkup, teamsMarkup } from './alert-display.ts';
import { webhookSignature } from './siem-delivery.ts';

/**
 * Alerts to people (issue 22, part 3), without I/O: which audit events a rule raises an alert
 * for, what the alert says (what happened, to whom, a link to the console page), whether the
 * rule's window lets it out, and the request each channel kind is sent.
 */

/** What one alert says; stored whole in the outbox and in its `alert.raised` audit event. */
export interface Alert {
  ruleId: string;
  rule: string;
  kind: AlertRuleKind;
  /** What the rule rate-limits on: one alert per rule and subject per window. */
  subject: string;
  title: string;
  /** What happened, in a sentence or two. */
  text: string;
  /** To whom it happened: the agent, the record, the destination… */
  about: string;
  /** The console page that shows it. */
  link: string;
  raisedAt: string;
  /** Alerts for the same rule and subject held back in the window before this one. */
  suppressed: number;
}

/** What a rule found, before the window and the channels: an alert without its rule's name and time. */
export type Finding = Pick<Alert, 'subject' | 'title' | 'text' | 'about' | 'link'>;

/** The rules that read the audit chain, each with the event types it looks at. */
export const CHAIN_RULES: Partial<Record<AlertRuleKind, readonly string[]>> = {
  kill_switch_engaged: ['kill_switch.engaged'],
  kill_trigger_fired: ['kill_switch.engaged'],
  bypass_writes: ['crm.bypass_write'],
  crm_auth_failed: ['change.failed', 'crm.connection_refused'],
  siem_destination_down: ['siem_destination.down'],
};

export const watchesChain = (kind: AlertRuleKind): boolean => CHAIN_RULES[kind] !== undefined;

/** The actor the kill triggers engage switches as (services/governance/kill-triggers.ts). */
const KILL_TRIGGER_ACTOR = 'kill-trigger';

/** The finding this chained event raises under a rule of this kind, if any. `consoleUrl` has no trailing slash. */
export function findingFromEvent(
  kind: AlertRuleKind,
  event: ChainedAuditEvent,
  consoleUrl: string,
): Finding | undefined {
  if (!CHAIN_RULES[kind]?.includes(event.type)) return undefined;
  const auditLink = `${consoleUrl}/audit/${event.seq}`;
  const data = event.data ?? {};
  switch (kind) {
    case 'kill_switch_engaged':
    case 'kill_trigger_fired': {
      const byTrigger = event.actor.name === KILL_TRIGGER_ACTOR;
      if (kind === 'kill_trigger_fired' && !byTrigger) return undefined;
      const scope = String(data.scope ?? 'workspace');
      const target = typeof data.target === 'string' ? data.target : null;
      const reason = String(event.after?.reason ?? '');
      return {
        subject: `${scope}:${target ?? ''}`,
        title: byTrigger ? 'Kill trigger fired' : 'Kill switch engaged',
        text: `The ${scope} kill switch was engaged by ${actorName(event.actor)}: ${reason}`,
        about: killSwitchAbout(scope, target),
        link: auditLink,
      };
    }
    case 'bypass_writes': {
      const who = event.agentId ? `agent ${event.agentId}` : `source ${String(data.sourceId ?? 'unknown')}`;
      return {
        subject: event.agentId ?? 'unattributed',
        title: 'CRM write around the governance API',
        text: `${event.property ?? 'A property'} of ${event.objectType} ${event.recordId} was set to "${String(event.after?.value ?? '')}" by ${who}, not through the governance API (${String(data.changeSource ?? 'unknown source')}).`,
        about: `${event.objectType} ${event.recordId}`,
        link: `${consoleUrl}/records/${encodeURIComponent(event.objectType ?? '')}/${encodeURIComponent(event.recordId ?? '')}`,
      };
    }
    case 'crm_auth_failed':
      if (event.type === 'crm.connection_refused') return connectionRefused(event, auditLink);
      if (!event.reasons?.includes('crm_auth_failed')) return undefined;
      return {
        subject: 'crm',
        title: 'CRM refused our credentials',
        // Not the CRM's message: it can quote the values written, so the stored event keeps it apart (retention.md).
        text: `A write of agent ${event.agentId} to ${event.objectType} ${event.recordId} failed: the CRM refused our credentials. Nothing reaches the CRM until the workspace is reconnected.`,
        about: 'the workspace’s CRM connection',
        link: event.batchId ? `${consoleUrl}/batches/${encodeURIComponent(event.batchId)}` : auditLink,
      };
    case 'siem_destination_down':
      return {
        subject: String(data.id ?? ''),
        title: 'SIEM destination down',
        text: `Audit streaming to ${String(data.name)} (${String(data.kind)}) has failed since ${String(data.failingSince)}: ${String(data.lastError)}. Events wait from seq ${Number(data.cursorSeq) + 1} and are sent when it answers.`,
        about: `SIEM destination ${String(data.name)}`,
        link: auditLink,
      };
    default:
      return undefined;
  }
}

/** The CRM refused our credentials outside a write (a change stream's sign-in, a token minted or refreshed): only new credentials bring it back. */
function connectionRefused(event: ChainedAuditEvent, auditLink: string): Finding {
  const data = event.data ?? {};
  const crm = String(data.crm ?? '');
  const seenBy = event.actor.name === 'change-stream' ? 'its change stream signed in' : 'a call signed in';
  return {
    subject: 'crm',
    title: 'CRM refused our credentials',
    text: `The ${crm} account ${String(data.accountId ?? '')} refused our credentials when ${seenBy} (${String(data.reason ?? 'refused')}). Calls to it fail and its changes are not followed until an admin runs \`workspace update --workspace ${event.workspaceId} --crm ${crm}\` with credentials it accepts.`,
    about: `the workspace’s ${crm} connection`,
    link: auditLink,
  };
}

function actorName(actor: JsonObject): string {
  if (actor.name === KILL_TRIGGER_ACTOR) return 'a kill trigger';
  return `${String(actor.type)} ${String(actor.name ?? actor.agentId ?? '')}`.trim();
}

function killSwitchAbout(scope: string, target: string | null): string {
  if (scope === 'agent') return `agent ${target}`;
  if (scope === 'action') return `every agent's ${target} actions`;
  return 'every agent in the workspace';
}

/** A share of a count as people read it: "7 of 10 (70%)". */
export function share(count: number, of: number): string {
  return `${count} of ${of} (${Math.round((count / of) * 100)}%)`;
}

/**
 * Whether a rule may raise another alert for a subject last raised at `lastRaisedAt`:
 * one per rule and subject per window.
 */
export function windowOpen(input: { lastRaisedAt: Date | null; windowMinutes: number; now: Date }): boolean {
  return (
    input.lastRaisedAt === null || input.now.getTime() - input.lastRaisedAt.getTime() >= input.windowMinutes * 60_000
  );
}

/** A channel's opened secrets: the URL of a webhook kind, the signing secret, the SMTP password. */
export interface ChannelSecrets {
  url?: string;
  secret?: string;
  password?: string;
}

export interface ChannelRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * An alert's fields as a channel shows them to people (alert-display.ts): `markup` makes its text
 * inert in the channel's markup; titles go where no markup is read (Slack's header, Teams' title, a subject).
 */
function shownFields(alert: Alert, markup?: (character: string) => string) {
  return {
    title: shownToPeople(alert.title, { max: SHOWN_MAX.title }),
    text: shownToPeople(alert.text, { max: SHOWN_MAX.text, markup }),
    about: shownToPeople(alert.about, { max: SHOWN_MAX.about, markup }),
  };
}

function lines(shown: { text: string; about: string }, suppressed: number): string {
  const held = suppressed > 0 ? `\n(${suppressed} more like it in the last window were not sent.)` : '';
  return `${shown.text}\nAbout: ${shown.about}${held}`;
}

/** The HTTP request for a Slack-compatible, Teams or signed webhook channel. */
export function channelRequest(
  kind: Exclude<AlertChannelKind, 'email'>,
  secrets: ChannelSecrets,
  alert: Alert,
  now: Date,
): ChannelRequest {
  const url = secrets.url ?? '';
  switch (kind) {
    case 'slack': {
      const shown = shownFields(alert, slackMarkup);
      return {
        url,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          text: `${shownToPeople(alert.title, { max: SHOWN_MAX.title, markup: slackMarkup })}: ${shown.text} <${alert.link}|Open in the console>`,
          blocks: [
            { type: 'header', text: { type: 'plain_text', text: shown.title } },
            // verbatim: Slack would otherwise make a quoted URL a link and parse some mentions in it.
            { type: 'section', text: { type: 'mrkdwn', text: lines(shown, alert.suppressed), verbatim: true } },
            {
              type: 'actions',
              elements: [
                { type: 'button', text: { type: 'plain_text', text: 'Open in the console' }, url: alert.link },
              ],
            },
          ],
        }),
      };
    }
    case 'teams': {
      // A MessageCard: what Teams incoming webhooks and Workflows' "post to a channel" both take.
      const shown = shownFields(alert, teamsMarkup);
      return {
        url,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          '@type': 'MessageCard',
          '@context': 'https://schema.org/extensions',
          summary: shown.title,
          themeColor: 'D9534F',
          title: shown.title,
          text: lines(shown, alert.suppressed).replaceAll('\n', '<br>'),
          potentialAction: [
            { '@type': 'OpenUri', name: 'Open in the console', targets: [{ os: 'default', uri: alert.link }] },
          ],
        }),
      };
    }
    case 'webhook': {
      const body = JSON.stringify({ alert });
      const timestamp = String(now.getTime());
      return {
        url,
        headers: {
          'content-type': 'application/json',
          'x-agent-governance-request-timestamp': timestamp,
          'x-agent-governance-signature-v1': webhookSignature({ secret: secrets.secret ?? '', url, body, timestamp }),
        },
        body,
      };
    }
  }
}

/** The subject and plain text of an alert's email. */
export function emailContent(alert: Alert): { subject: string; text: string } {
  const shown = shownFields(alert);
  return {
    subject: `[Agent Governance] ${shown.title}: ${shown.about}`,
    text: `${lines(shown, alert.suppressed)}\n\nOpen in the console: ${alert.link}\nRule: ${alert.rule}\nRaised at: ${alert.raisedAt}\n`,
  };
}
