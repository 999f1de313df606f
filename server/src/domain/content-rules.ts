import { compilePattern, type ContentPattern } from '../../../shared/content-match.ts';
import type { AgentRole } from '../../../shared/crm-names.ts';
import type { ContentRule, Policy, Tier } from '../../../shared/policy.ts';
import type { ReasonCode } from '../../../shared/reason-codes.ts';
import { type PhraseScan, phraseScan } from './phrase-scan.ts';
import { raiseTier } from './policy-evaluation.ts';

/**
 * Content rules for drafts (issue 21), pure: a draft's subject and body against the policy's
 * banned phrases and claims, required elements and allowed personalisation fields. Each match
 * raises the tier (never lowers it) and is named, with the text it matched, in a finding.
 */

export type DraftAction = 'send_email' | 'create_task' | 'create_note';

export interface ContentFinding {
  rule: string;
  reason: Extract<ReasonCode, 'content_banned' | 'content_required_missing' | 'content_personalisation_not_allowed'>;
  /** The text that matched (a banned phrase as written in the draft, a merge field), or what was missing. */
  text: string;
  /** Where it was found: subject or body; absent for a required element found nowhere. */
  field?: string;
}

interface CompiledRule {
  rule: ContentRule;
  phrases: PhraseScan;
  patterns: { source: string; pattern: ContentPattern }[];
}

/** Compiled once per policy document: a policy version is immutable, and each draft reuses its matchers. */
const compiledRules = new WeakMap<readonly ContentRule[], CompiledRule[]>();

function compiled(rules: readonly ContentRule[]): CompiledRule[] {
  let found = compiledRules.get(rules);
  if (!found) {
    found = rules.map((rule) => ({
      rule,
      phrases: phraseScan(rule.phrases ?? []),
      patterns: (rule.patterns ?? []).map((source) => ({ source, pattern: compilePattern(source) })),
    }));
    compiledRules.set(rules, found);
  }
  return found;
}

/** `{{ firstname }}`, `{{contact.company}}`: the name a merge field asks for. */
const MERGE_FIELD = /\{\{\s*([A-Za-z0-9_.-]{1,200})\s*\}\}/g;

export function evaluateContent(input: {
  policy: Policy;
  agentRole: AgentRole;
  action: DraftAction;
  tier: Tier;
  texts: Readonly<Record<string, string | undefined>>;
}): { tier: Tier; reasons: ReasonCode[]; findings: ContentFinding[] } {
  const rules = input.policy.content ?? [];
  let tier = input.tier;
  const reasons: ReasonCode[] = [];
  const findings: ContentFinding[] = [];
  const texts = Object.entries(input.texts).filter((entry): entry is [string, string] => entry[1] !== undefined);
  for (const compiledRule of compiled(rules)) {
    const { rule } = compiledRule;
    if (rule.actions && !rule.actions.includes(input.action)) continue;
    if (rule.roles && !rule.roles.includes(input.agentRole)) continue;
    const found = ruleFindings(compiledRule, texts);
    if (found.length === 0) continue;
    tier = raiseTier(tier, rule.raiseTo);
    for (const finding of found) {
      findings.push(finding);
      if (!reasons.includes(finding.reason)) reasons.push(finding.reason);
    }
  }
  return { tier, reasons, findings };
}

function ruleFindings({ rule, phrases, patterns }: CompiledRule, texts: [string, string][]): ContentFinding[] {
  if (rule.kind === 'personalisation') {
    const allowed = new Set((rule.allowedFields ?? []).map((name) => name.toLowerCase()));
    const found: ContentFinding[] = [];
    for (const [field, text] of texts) {
      for (const match of text.matchAll(MERGE_FIELD)) {
        const name = match[1]!;
        if (!allowed.has(name.toLowerCase()))
          found.push({ rule: rule.name, reason: 'content_personalisation_not_allowed', text: match[0], field });
      }
    }
    return found;
  }
  const phraseMatches = texts.map(([, text]) => phrases.firstMatches(text));
  if (rule.kind === 'required') {
    const present =
      phraseMatches.some((matches) => matches.some((match) => match !== undefined)) ||
      patterns.some(({ pattern }) => texts.some(([, text]) => pattern.firstMatch(text) !== undefined));
    const described = [...(rule.phrases ?? []), ...patterns.map(({ source }) => source)];
    return present ? [] : [{ rule: rule.name, reason: 'content_required_missing', text: described.join(' | ') }];
  }
  // Phrases first, then patterns, each in the order the rule lists them, and each field in turn.
  const matches = [
    ...(rule.phrases ?? []).map((_, index) => phraseMatches.map((matchesInText) => matchesInText[index])),
    ...patterns.map(({ pattern }) => texts.map(([, text]) => pattern.firstMatch(text))),
  ];
  const found: ContentFinding[] = [];
  for (const matchesByField of matches) {
    matchesByField.forEach((match, fieldIndex) => {
      if (match !== undefined)
        found.push({ rule: rule.name, reason: 'content_banned', text: match.trim(), field: texts[fieldIndex]![0] });
    });
  }
  return found;
}

/** One sentence naming every finding, for the draft's message. */
export function describeFindings(findings: readonly ContentFinding[]): string {
  return findings
    .map((finding) => {
      if (finding.reason === 'content_required_missing')
        return `Content rule "${finding.rule}": none of ${JSON.stringify(finding.text)} is present.`;
      const what = finding.reason === 'content_banned' ? 'banned text' : 'merge field not allowed';
      return `Content rule "${finding.rule}": ${what} ${JSON.stringify(finding.text)} in ${finding.field}.`;
    })
    .join(' ');
}
