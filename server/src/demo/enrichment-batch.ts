import { changeSetResponseSchema, type ChangeSetRequest, type ChangeSetResponse } from '../../../shared/agent-api.ts';
import { SEED_CONTACTS } from '../sandbox/seed.ts';

const FIRST_SEEDED_CONTACT = 1001;

// One proposal per kind of decision the example policy makes, so every batch shows all three outcomes.
const SCRIPT: { properties: Record<string, string>; source: string; confidence: number; reason: string }[] = [
  {
    properties: { jobtitle: 'VP Engineering' },
    source: 'clearbit',
    confidence: 0.93,
    reason: 'Company site lists the new title',
  },
  {
    properties: { industry: 'Software', city: 'Austin' },
    source: 'apollo',
    confidence: 0.9,
    reason: 'Firmographics match the company domain',
  },
  {
    properties: { numemployees: '100-500' },
    source: 'zoominfo',
    confidence: 0.88,
    reason: 'Headcount from the latest filing',
  },
  {
    properties: { company: 'Litware Labs Inc.' },
    source: 'company_website',
    confidence: 0.95,
    reason: 'Legal name on the imprint page',
  },
  {
    properties: { phone: '+1 512 555 0142' },
    source: 'apollo',
    confidence: 0.91,
    reason: 'Direct dial from the provider',
  },
  {
    properties: { jobtitle: 'Head of Growth' },
    source: 'linkedin',
    confidence: 0.55,
    reason: 'Profile headline, not yet confirmed',
  },
  {
    properties: { country: 'Ireland' },
    source: 'forum-scrape',
    confidence: 0.8,
    reason: 'Mentioned in a community thread',
  },
  {
    properties: { hs_email_optout: 'false' },
    source: 'clearbit',
    confidence: 0.99,
    reason: 'The address looks deliverable again',
  },
  {
    properties: { firstname: 'Alexandra' },
    source: 'clearbit',
    confidence: 0.97,
    reason: 'Full first name from the profile',
  },
];

/** The `n`th scripted enrichment batch: different seeded contacts each time, the same mix of proposals. */
export function enrichmentBatch(n: number): ChangeSetRequest {
  return {
    batchId: `demo-enrichment-${n}`,
    objectType: 'contacts',
    changes: SCRIPT.map((proposal, slot) => ({
      recordId: String(FIRST_SEEDED_CONTACT + ((n * SCRIPT.length + slot) % SEED_CONTACTS)),
      properties: proposal.properties,
      evidence: {
        source: proposal.source,
        confidence: proposal.confidence,
        reason: proposal.reason,
        url: `https://example.com/evidence/${n}/${slot}`,
        runId: `demo-run-${n}`,
      },
    })),
  };
}

/** Posts a change set through the public agent API, exactly as an agent outside the server would. */
export async function submitChangeSet(input: {
  serverUrl: string;
  agentToken: string;
  request: ChangeSetRequest;
}): Promise<ChangeSetResponse> {
  const response = await fetch(`${input.serverUrl}/v1/changesets`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${input.agentToken}`,
      'content-type': 'application/json',
      'idempotency-key': input.request.batchId,
    },
    body: JSON.stringify(input.request),
  });
  const body: unknown = await response.json();
  if (!response.ok) throw new Error(`The server refused the change set (${response.status}): ${JSON.stringify(body)}`);
  return changeSetResponseSchema.parse(body);
}

/** A few lines a person reads: how many values were applied, held and refused, and why. */
export function describeOutcome(changeSet: ChangeSetResponse): string[] {
  const reasonsOf = (decision: string, leaveOut: readonly string[] = []) => {
    const counts = new Map<string, number>();
    for (const result of changeSet.results.filter((r) => r.decision === decision)) {
      // tier_auto is where every evaluation starts; the reasons worth reading are what moved it.
      for (const reason of result.reasons.filter((r) => r !== 'tier_auto' && !leaveOut.includes(r)))
        counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    return counts.size === 0
      ? ''
      : ` (${[...counts].map(([reason, count]) => (count > 1 ? `${reason} ×${count}` : reason)).join(', ')})`;
  };
  const { summary } = changeSet;
  const unchanged = changeSet.results.filter(
    (r) => r.decision === 'applied' && r.reasons.includes('value_unchanged'),
  ).length;
  const lines = [
    `Batch ${changeSet.batchId} → change set ${changeSet.id} (policy v${changeSet.policyVersion}):`,
    `  applied now, with provenance on the record: ${summary.applied}${unchanged > 0 ? `, of which ${unchanged} already held that value (value_unchanged: nothing written)` : ''}${reasonsOf('applied', ['value_unchanged'])}`,
    `  held for a person's approval:              ${summary.pending_approval}${reasonsOf('pending_approval')}`,
    `  refused:                                    ${summary.denied}${reasonsOf('denied')}`,
  ];
  if (summary.failed > 0)
    lines.push(`  failed at HubSpot:                          ${summary.failed}${reasonsOf('failed')}`);
  return lines;
}
