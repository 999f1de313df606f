/**
 * A Slack-compatible webhook receiver and an SMTP sink as their own process, so a test can kill -9
 * them and start them again on the same ports: `alert-receivers.ts OUT_FILE [HOOK_PORT SMTP_PORT]`.
 * Each accepted alert is appended to OUT_FILE (one JSON line: the channel and the alert's link)
 * before it is acknowledged. Prints one JSON line with the webhook URL and the SMTP port.
 */
import fs from 'node:fs';
import { startHookReceiver, startSmtpSink } from '../../support/alert-receivers.ts';

const [outFile, hookPort, smtpPort] = process.argv.slice(2);
if (outFile === undefined) throw new Error('usage: alert-receivers.ts OUT_FILE [HOOK_PORT SMTP_PORT]');

const record = (channel: string, link: string | undefined) =>
  fs.appendFileSync(outFile, `${JSON.stringify({ channel, link })}\n`);
const hook = await startHookReceiver({
  port: Number(hookPort ?? 0),
  onReceived: (body) => {
    const blocks = JSON.stringify(body.blocks);
    record('slack', /"url":"([^"]+)"/.exec(blocks)?.[1]);
  },
});
const smtp = await startSmtpSink({
  port: Number(smtpPort ?? 0),
  onReceived: (mail) => record('email', /Open in the console: (\S+)/.exec(mail.raw)?.[1]),
});
process.stdout.write(`${JSON.stringify({ message: 'receivers listening', hookUrl: hook.url, smtpPort: smtp.port })}\n`);
