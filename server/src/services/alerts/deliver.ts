import nodemailer from 'nodemailer';
import { type Alert, type ChannelSecrets, channelRequest, emailContent } from '../../domain/alerts.ts';
import { retryDelayMs } from '../../domain/siem-delivery.ts';
import {
  type AlertChannelRow,
  type AlertDeliveryRow,
  claimDueAlertDelivery,
  settleAlertDelivery,
} from '../../store/alert-store.ts';
import {
  type DeliveryFailure,
  deliveryFailure,
  OutboundRefused,
  type ServiceDeps,
  withAuditChain,
} from '../common/index.ts';
import { parseJson } from '../../../../shared/json-text.ts';

export interface AlertDelivery {
  /** Names this process in the deliveries' leases. */
  holder: string;
  /** How long a claimed delivery stays this server's; longer than `requestTimeoutMs`. */
  leaseMs: number;
  requestTimeoutMs: number;
  /** The longest wait between attempts at a failing channel. */
  retryMaxMs: number;
  /** Attempts before an alert is given up on (and that recorded in the audit log). */
  maxAttempts: number;
}

const SYSTEM_ACTOR = { type: 'system', name: 'alerts' } as const;

/**
 * Sends one due alert to its channel (issue 22, part 3) and says whether one was due. A failed
 * attempt waits 1 s, 2 s, 4 s… (longer when a 429 or 503 asks, by Retry-After) up to `retryMaxMs`
 * and is tried again, up to `maxAttempts`; then
 * it is given up, which is an audit event. A server killed mid-send leaves the row pending: once
 * its lease lapses another sends it again (at least once).
 */
export async function deliverDueAlert(deps: ServiceDeps, delivery: AlertDelivery): Promise<boolean> {
  const claimed = await claimDueAlertDelivery(deps.db, {
    holder: delivery.holder,
    leaseMs: delivery.leaseMs,
    now: deps.clock(),
  });
  if (!claimed) return false;
  const failure = await send(deps, claimed.channel, claimed.delivery.alert, delivery.requestTimeoutMs);
  const now = deps.clock();
  const attempts = claimed.delivery.attempts + 1;
  if (failure === undefined) {
    await settleAlertDelivery(deps.db, {
      id: claimed.delivery.id,
      holder: delivery.holder,
      status: 'sent',
      error: null,
      now,
      nextAttemptAt: now,
    });
    return true;
  }
  const outcome = {
    id: claimed.delivery.id,
    holder: delivery.holder,
    error: failure.message,
    now,
    nextAttemptAt: new Date(now.getTime() + retryDelayMs(attempts, delivery.retryMaxMs, failure.askedMs)),
  };
  if (attempts < delivery.maxAttempts) await settleAlertDelivery(deps.db, { ...outcome, status: 'pending' });
  else
    await withAuditChain(deps.db, claimed.delivery.workspaceId, deps.clock, async (tx, audit) => {
      if (!(await settleAlertDelivery(tx, { ...outcome, status: 'failed' }))) return;
      audit.append({
        type: 'alert.undelivered',
        actor: SYSTEM_ACTOR,
        data: undelivered(claimed, attempts, failure.message),
      });
    });
  return true;
}

function undelivered(
  claimed: { delivery: AlertDeliveryRow; channel: AlertChannelRow },
  attempts: number,
  failure: string,
) {
  const { alert } = claimed.delivery;
  return {
    deliveryId: claimed.delivery.id,
    channel: { id: claimed.channel.id, name: claimed.channel.name, kind: claimed.channel.kind },
    ruleId: alert.ruleId,
    rule: alert.rule,
    subject: alert.subject,
    title: alert.title,
    raisedAt: alert.raisedAt,
    attempts,
    lastError: failure,
  };
}

/** Undefined when the channel took the alert, else why not, in one line (never the URL: it is a secret). */
async function send(
  deps: ServiceDeps,
  channel: AlertChannelRow,
  alert: Alert,
  timeoutMs: number,
): Promise<DeliveryFailure | undefined> {
  const secrets = parseJson(deps.secrets.open(channel.secretsEnc)) as ChannelSecrets;
  if (channel.kind === 'email') return sendEmail(deps, channel, secrets, alert, timeoutMs);
  const request = channelRequest(channel.kind, secrets, alert, deps.clock());
  // Only the configured URL takes the alert: a redirect is not followed (a proxy's sign-in page, another
  // host, an address inside our network would have turned the POST into a GET whose 2xx marked it sent).
  return deliveryFailure(await deps.outbound.post(request.url, request, timeoutMs), 'the channel', deps.clock());
}

async function sendEmail(
  deps: ServiceDeps,
  channel: AlertChannelRow,
  secrets: ChannelSecrets,
  alert: Alert,
  timeoutMs: number,
): Promise<DeliveryFailure | undefined> {
  const { settings } = channel;
  const host = settings.smtpHost ?? '';
  const port = settings.smtpPort ?? 587;
  const transport = nodemailer.createTransport({
    host,
    port,
    secure: settings.smtpSecure ?? false,
    // Our connection, not nodemailer's: nodemailer resolves the host with its own resolver (and keeps the
    // answer for minutes) and dials what it found, out of the check's sight; ours dials through the check.
    // TLS, from the start or by STARTTLS, still verifies the certificate against the host's name.
    getSocket: (_options, callback) => {
      deps.outbound.connect(host, port, timeoutMs).then(
        (connection) => callback(null, { connection }),
        (error: Error) => callback(error),
      );
    },
    ...(settings.smtpUser === undefined ? {} : { auth: { user: settings.smtpUser, pass: secrets.password ?? '' } }),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({ from: settings.from, to: settings.to, ...emailContent(alert) });
    return undefined;
  } catch (error) {
    if (error instanceof OutboundRefused) return { message: error.message };
    const { code, responseCode } = error as { code?: unknown; responseCode?: unknown };
    return {
      message: `SMTP send failed${typeof code === 'string' ? ` (${code})` : ''}${typeof responseCode === 'number' ? `: ${responseCode}` : ''}`,
    };
  } finally {
    transport.close();
  }
}
