import type { EmailStop } from '../extension-api.ts';
import { visibleText } from './display-text.ts';

/** Why no agent may email a contact again (issue 21's suppression), as the record card lists it. */

const STOP_SENTENCES: Partial<Record<EmailStop['reason'], string>> = {
  contact_replied: 'they replied',
  contact_unsubscribed: 'they unsubscribed',
  contact_hard_bounced: 'their email bounced hard',
  contact_complained: 'they marked an email as spam',
};

/** "they unsubscribed: reported on 23/11/2026, 10:00:00 by outreach-bot's email 0190…". */
export function emailStopText(stop: EmailStop): string {
  const why = STOP_SENTENCES[stop.reason] ?? stop.reason;
  const by = stop.agent ? `${stop.agent.name}'s email` : 'email';
  return visibleText(`${why}: reported on ${new Date(stop.at).toLocaleString()} by ${by} ${stop.actionId}`);
}
