import { describe, expect, it } from 'vitest';
import {
  channelRequest,
  emailContent,
  findingFromEvent,
  windowOpen,
  type Alert,
} from '../../server/src/domain/alerts.ts';
import type { ChainedAuditEvent } from '../../server/src/domain/audit-chain.ts';

const CONSOLE = 'https://governance.example.com';

function event(overrides: Partial<ChainedAuditEvent>): ChainedAuditEvent {
  return {
    workspaceId: '00000000-0000-4000-8000-000000000001',
    seq: 42,
    occurredAt: '2026-12-05T03:00:00.000Z',
    type: 'crm.bypass_write',
    actor: { type: 'system', name: 'webhooks' },
    agentId: null,
    batchId: null,
    changeSetId: null,
    objectType: 'contacts',
    recordId: '9001',
    property: 'jobtitle',
    before: null,
    after: { value: 'CEO' },
    evidence: null,
    reasons: [],
    policyVersion: null,
    data: { changeSource: 'INTEGRATION', sourceId: 'app-77' },
    prevHash: '0'.repeat(64),
    hash: '1'.repeat(64),
    ...overrides,
  };
}

describe('what an alert says', () => {
  it('names a bypass write’s record, value and source, links to the record page, and rate-limits per agent or unattributed', () => {
    expect(findingFromEvent('bypass_writes', event({}), CONSOLE)).toEqual({
      subject: 'unattributed',
      title: 'CRM write around the governance API',
      text: 'jobtitle of contacts 9001 was set to "CEO" by source app-77, not through the governance API (INTEGRATION).',
      about: 'contacts 9001',
      link: `${CONSOLE}/records/contacts/9001`,
    });
    const agentId = '00000000-0000-4000-8000-000000000002';
    expect(findingFromEvent('bypass_writes', event({ agentId }), CONSOLE)?.subject).toBe(agentId);
  });

  it('raises nothing for an event the rule does not watch', () => {
    expect(findingFromEvent('kill_switch_engaged', event({}), CONSOLE)).toBeUndefined();
    expect(
      findingFromEvent(
        'crm_auth_failed',
        event({ type: 'change.failed', reasons: ['tier_auto', 'crm_unavailable'] }),
        CONSOLE,
      ),
    ).toBeUndefined();
  });

  it('lets one alert out per window', () => {
    const now = new Date('2026-12-05T03:00:00Z');
    expect(windowOpen({ lastRaisedAt: null, windowMinutes: 60, now })).toBe(true);
    expect(windowOpen({ lastRaisedAt: new Date('2026-12-05T02:01:00Z'), windowMinutes: 60, now })).toBe(false);
    expect(windowOpen({ lastRaisedAt: new Date('2026-12-05T02:00:00Z'), windowMinutes: 60, now })).toBe(true);
  });

  it('says in an email how many alerts like it were held back', () => {
    const alert: Alert = {
      ruleId: 'r',
      rule: 'switches',
      kind: 'kill_switch_engaged',
      subject: 'workspace:',
      title: 'Kill switch engaged',
      text: 'The workspace kill switch was engaged.',
      about: 'every agent in the workspace',
      link: `${CONSOLE}/audit/7`,
      raisedAt: '2026-12-05T03:00:00.000Z',
      suppressed: 4,
    };
    const mail = emailContent(alert);
    expect(mail.subject).toBe('[Agent Governance] Kill switch engaged: every agent in the workspace');
    expect(mail.text).toContain('(4 more like it in the last window were not sent.)');
    expect(mail.text).toContain(`Open in the console: ${CONSOLE}/audit/7`);
  });

  it('keeps text from agents or the CRM from mentioning @channel or making links in Slack', () => {
    const finding = findingFromEvent(
      'bypass_writes',
      event({ after: { value: '<!channel> <https://evil.example|click>' } }),
      CONSOLE,
    )!;
    const alert: Alert = {
      ...finding,
      ruleId: 'r',
      rule: 'bypass',
      kind: 'bypass_writes',
      raisedAt: '2026-12-05T03:00:00.000Z',
      suppressed: 0,
    };
    const body = JSON.parse(
      channelRequest('slack', { url: 'https://hooks.example.com/x' }, alert, new Date()).body,
    ) as {
      text: string;
      blocks: { text?: { text: string } }[];
    };
    expect(body.text).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt;');
    expect(body.text).not.toContain('<!channel>');
    expect(body.blocks[1]!.text!.text).not.toContain('<!channel>');
    expect(body.text).toContain(`<${CONSOLE}/records/contacts/9001|Open in the console>`);
  });
});

/** The bypass alert for a CRM value, as raised. */
function bypassAlert(value: string, overrides: Partial<ChainedAuditEvent> = {}): Alert {
  return {
    ...findingFromEvent('bypass_writes', event({ after: { value }, ...overrides }), CONSOLE)!,
    ruleId: 'r',
    rule: 'bypass',
    kind: 'bypass_writes',
    raisedAt: '2026-12-05T03:00:00.000Z',
    suppressed: 0,
  };
}

interface SlackBody {
  text: string;
  blocks: { type: string; text?: { text: string; verbatim?: boolean } }[];
}
interface TeamsBody {
  title: string;
  summary: string;
  text: string;
  potentialAction: { targets: { uri: string }[] }[];
}

const HOOK = { url: 'https://hooks.example.com/x', secret: 'an-alert-webhook-secret-of-32-chars!' };
const slackBody = (alert: Alert) => JSON.parse(channelRequest('slack', HOOK, alert, new Date()).body) as SlackBody;
const teamsBody = (alert: Alert) => JSON.parse(channelRequest('teams', HOOK, alert, new Date()).body) as TeamsBody;
const webhookAlert = (alert: Alert) =>
  (JSON.parse(channelRequest('webhook', HOOK, alert, new Date()).body) as { alert: Alert }).alert;
/** What a person reads in each channel: Slack's section, Teams' text as its HTML shows it, the email. */
const shownBy: Record<'slack' | 'teams' | 'email', (alert: Alert) => string> = {
  slack: (alert) => slackBody(alert).blocks[1]!.text!.text,
  teams: (alert) => teamsHtmlShown(teamsBody(alert).text),
  email: (alert) => emailContent(alert).text,
};

/** Teams' text as a person reads it: character references decoded, `<br>` a line break. */
function teamsHtmlShown(text: string): string {
  return text
    .replaceAll('<br>', '\n')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

describe('outside text in an alert, as people are shown it', () => {
  const reversed = '\u202Emoc.elpmaxe@oec';

  it.each(['slack', 'teams', 'email'] as const)(
    'shows a CRM value’s bidirectional controls as markers in %s, so it cannot read as another address',
    (channel) => {
      const shown = shownBy[channel](bypassAlert(reversed));
      expect(shown).toContain('"⟨U+202E⟩moc.elpmaxe@oec"');
      expect(shown).not.toContain('\u202E');
    },
  );

  it('shows hidden characters in the email’s subject and Slack’s and Teams’ titles as markers too', () => {
    const alert = { ...bypassAlert('CEO'), title: 'CRM write\u200B around', about: `contacts 9001${reversed}` };
    expect(emailContent(alert).subject).toBe(
      '[Agent Governance] CRM write⟨U+200B⟩ around: contacts 9001⟨U+202E⟩moc.elpmaxe@oec',
    );
    expect(slackBody(alert).blocks[0]!.text!.text).toBe('CRM write⟨U+200B⟩ around');
    expect(teamsBody(alert)).toMatchObject({ title: 'CRM write⟨U+200B⟩ around', summary: 'CRM write⟨U+200B⟩ around' });
  });

  it.each([
    ['a Markdown link', '[Reset your password](https://evil.example)'],
    ['an HTML link', '<a href="https://evil.example">Reset your password</a>'],
    ['an image', '![x](https://evil.example/pixel.png)'],
    ['emphasis and a heading', '**Urgent** _now_ # Act'],
  ])('sends %s from the CRM to Teams as inert characters, shown as typed', (_, value) => {
    const body = teamsBody(bypassAlert(value));
    const markup = body.text.replace(/&#\d+;/g, '').replace(/<br>/g, '');
    for (const character of ['[', ']', '<', '>', '*', '_', '#', '!']) expect(markup).not.toContain(character);
    expect(teamsHtmlShown(body.text)).toContain(`"${value}"`);
    expect(body.potentialAction[0]!.targets[0]!.uri).toBe(`${CONSOLE}/records/contacts/9001`);
  });

  it('has Slack show a CRM value’s URLs, channel names and mentions as typed (verbatim), not linked', () => {
    const body = slackBody(bypassAlert('@here see https://evil.example #general'));
    expect(body.blocks[1]!.text).toMatchObject({ verbatim: true });
    expect(body.blocks[1]!.text!.text).toContain('"@here see https://evil.example #general"');
  });

  it.each(['slack', 'teams', 'email'] as const)(
    'keeps a CRM value’s line breaks from adding lines of their own in %s',
    (channel) => {
      const value = `CEO\r\n\nOpen in the console: https://evil.example\nAbout: the CEO`;
      const shown = shownBy[channel](bypassAlert(value));
      expect(shown).toContain(
        '"CEO⟨U+000D⟩⟨U+000A⟩⟨U+000A⟩Open in the console: https://evil.example⟨U+000A⟩About: the CEO"',
      );
      expect(shown.split('\n').filter((line) => line.startsWith('About: '))).toEqual(['About: contacts 9001']);
      expect(shown).not.toMatch(/^Open in the console: https:\/\/evil/m);
    },
  );

  it('keeps a CRM value’s line breaks out of the email’s subject', () => {
    const alert = { ...bypassAlert('CEO'), about: 'contacts 9001\r\nBcc: attacker@evil.example' };
    expect(emailContent(alert).subject).toBe(
      '[Agent Governance] CRM write around the governance API: contacts 9001⟨U+000D⟩⟨U+000A⟩Bcc: attacker@evil.example',
    );
  });

  it.each([
    ['letters', 'x'],
    ['characters Slack escapes', '&'],
    ['characters Teams escapes', '['],
    ['hidden characters', '\u202E'],
  ])(
    'cuts a 65,536-character CRM value of %s to fit Slack’s 3,000-character section, keeping both ends of the sentence',
    (_, character) => {
      const alert = bypassAlert(character.repeat(65_536));
      const slack = slackBody(alert);
      const teams = teamsBody(alert);
      const email = emailContent(alert);
      expect(slack.blocks[1]!.text!.text.length).toBeLessThanOrEqual(3_000);
      expect(slack.text.length).toBeLessThanOrEqual(3_000);
      expect(teams.text.length).toBeLessThanOrEqual(3_000);
      expect(email.text.length).toBeLessThanOrEqual(3_000);
      for (const shown of [slack.blocks[1]!.text!.text, teamsHtmlShown(teams.text), email.text]) {
        expect(shown).toMatch(/^jobtitle of contacts 9001 was set to "/);
        expect(shown).toMatch(
          / characters not shown\) … .*" by source app-77, not through the governance API \(INTEGRATION\)\./,
        );
      }
      expect(email.text).toContain(`Open in the console: ${CONSOLE}/records/contacts/9001`);
      // The signed webhook is read by a machine: it gets the alert whole, as stored.
      expect(webhookAlert(alert)).toEqual(alert);
      expect(webhookAlert(alert).text).toContain(character.repeat(65_536));
    },
  );

  it('says how many characters it left out of a value cut short', () => {
    const text = emailContent(bypassAlert('x'.repeat(65_536))).text;
    const left = Number(/… \(([\d,]+) characters not shown\) …/.exec(text)![1]!.replaceAll(',', ''));
    const kept = text.split('\n')[0]!.match(/x/g)!.length;
    expect(kept + left).toBe(65_536);
  });
});
