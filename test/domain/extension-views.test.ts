import { describe, expect, it } from 'vitest';
import { permissionsFor } from '../../server/src/domain/extension-access.ts';
import { PERSON_ROLES } from '../../server/src/domain/approval-lifecycle.ts';
import { decisionControls } from '../../shared/views/decision-controls.ts';
import { pageInfo } from '../../shared/views/pagination.ts';
import { changedCells, matrixRows, withTier } from '../../shared/views/policy-matrix.ts';
import { killSwitchNotice, showValue, sourceLink } from '../../shared/views/proposal-view.ts';
import { pendingCard, POLICY } from '../extension/fixtures.ts';

describe('what each role may do in the HubSpot app', () => {
  it.each([
    ['owner', 'any', true, true],
    ['revops_admin', 'any', true, true],
    ['approver', 'any', false, true],
    ['rep', 'own_records', false, false],
    ['auditor', 'none', false, false],
  ] as const)('gives %s decide=%s, publish=%s, roll back=%s', (role, decide, publish, rollBack) => {
    expect(permissionsFor(role)).toMatchObject({
      role,
      decide,
      publishPolicy: publish,
      setKillSwitches: publish,
      rollBack,
    });
  });

  it('lets only the roles that read settings search the audit trail', () => {
    for (const role of PERSON_ROLES) expect(permissionsFor(role).searchAudit).toBe(permissionsFor(role).readSettings);
  });
});

describe('how a proposal reads', () => {
  it.each([
    [null, '(empty)', null],
    ['', '(empty)', null],
    ['CTO', 'CTO', null],
  ])('shows %j as %j', (value, text, full) => {
    expect(showValue(value)).toEqual({ text, full });
  });

  it('cuts a long value between characters, never inside an emoji', () => {
    // 79 letters then an emoji: its two UTF-16 halves are the 80th and 81st units, either side of the cut.
    const shown = showValue(`${'a'.repeat(79)}😀 and more`);
    expect(shown.text).toBe(`${'a'.repeat(79)}…`);
    expect(shown.text.isWellFormed()).toBe(true);
  });

  it('cuts a long value at a word and keeps the whole of it', () => {
    const long = `${'alpha '.repeat(20)}omega`;
    const shown = showValue(long, 40);
    expect(shown.text).toBe(`${'alpha '.repeat(6).trim()}…`);
    expect(shown.full).toBe(long);
  });

  it.each([
    [
      { source: 'clearbit', url: 'https://example.com/p' },
      { label: 'clearbit', href: 'https://example.com/p' },
    ],
    [
      { source: 'site', url: 'javascript:alert(1)' },
      { label: 'site', href: null },
    ],
    [{ url: 'http://example.com' }, { label: 'http://example.com', href: 'http://example.com' }],
    [{ reason: 'no source' }, null],
  ])('links %j only over http(s)', (evidence, link) => {
    expect(sourceLink(evidence)).toEqual(link);
  });

  it('names each engaged kill switch in one sentence', () => {
    expect(killSwitchNotice([])).toBeNull();
    expect(
      killSwitchNotice(
        [
          { scope: 'workspace', target: null, reason: 'Bad batch', changedAt: '' },
          { scope: 'agent', target: 'a1', reason: 'Loops', changedAt: '' },
        ],
        (id) => (id === 'a1' ? 'enricher' : undefined),
      ),
    ).toBe('All agents are stopped: Bad batch. Agent enricher is stopped: Loops.');
  });

  it('pauses approving, not rejecting, while a kill switch is engaged', () => {
    expect(decisionControls(pendingCard('a'), { killSwitchEngaged: true })).toMatchObject({
      approve: false,
      editThenApprove: false,
      reject: true,
    });
    expect(decisionControls(pendingCard('a'), { killSwitchEngaged: false })).toEqual({
      approve: true,
      editThenApprove: true,
      reject: true,
      unavailableReason: null,
    });
  });
});

describe('pages', () => {
  it.each([
    [
      { page: 1, pageSize: 10, total: 0, items: [] },
      { pageCount: 1, hasPrevious: false, hasNext: false, label: 'None' },
    ],
    [
      { page: 1, pageSize: 10, total: 57, items: Array(10) },
      { pageCount: 6, hasPrevious: false, hasNext: true, label: '1–10 of 57' },
    ],
    [
      { page: 6, pageSize: 10, total: 57, items: Array(7) },
      { pageCount: 6, hasPrevious: true, hasNext: false, label: '51–57 of 57' },
    ],
  ])('describes %j', (page, info) => {
    expect(pageInfo(page)).toEqual(info);
  });
});

describe('the policy matrix', () => {
  it('shows inherited tiers as such: "*" for unnamed roles, deny where nothing applies', () => {
    const [jobtitle] = matrixRows(POLICY, 'contacts');
    expect(jobtitle?.cells.find((cell) => cell.role === 'enrichment')).toEqual({
      role: 'enrichment',
      tier: 'auto',
      inherited: false,
    });
    expect(jobtitle?.cells.find((cell) => cell.role === 'outreach')).toEqual({
      role: 'outreach',
      tier: 'approval',
      inherited: true,
    });
    expect(matrixRows(POLICY, 'contacts')[1]?.cells.find((cell) => cell.role === 'routing')).toEqual({
      role: 'routing',
      tier: 'deny',
      inherited: true,
    });
  });

  it('changes one cell in a copy and counts it, leaving the published policy as it was', () => {
    const edited = withTier(POLICY, { objectType: 'contacts', property: 'phone', role: 'enrichment', tier: 'deny' });
    expect(edited.objects.contacts?.properties.phone).toEqual({ enrichment: 'deny' });
    expect(POLICY.objects.contacts?.properties.phone).toEqual({ enrichment: 'approval' });
    expect(changedCells(POLICY, edited, ['contacts', 'deals'])).toBe(1);
    expect(edited.objects.deals).toBe(POLICY.objects.deals);
  });

  it('adds a property the policy did not name yet', () => {
    const edited = withTier(POLICY, { objectType: 'deals', property: 'dealname', role: 'routing', tier: 'approval' });
    expect(matrixRows(edited, 'deals').map((row) => row.property)).toEqual(['amount', 'dealname']);
  });
});
