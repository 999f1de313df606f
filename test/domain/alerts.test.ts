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
