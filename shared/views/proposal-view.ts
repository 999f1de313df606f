import type { ApprovalItemView } from '../approval-api.ts';
import type { EngagedKillSwitch, Evidence, PendingApprovalCard } from '../extension-api.ts';
import { visibleText } from './display-text.ts';

/**
 * How a held proposal reads to a person (issue 8): pure, so the HubSpot card and the later web
 * console show the same words. Never imports React or the HubSpot SDK.
 */

export const VALUE_PREVIEW_CHARS = 80;

export interface ShownValue {
  text: string;
  /** The whole value, when `text` was shortened; the UI offers it on demand. */
  full: string | null;
}

/**
 * Empty reads as "(empty)" so clearing a field is visible; long values are cut at a word where one
 * is near; hidden characters show as markers (`visibleText`), so the value reads as it is.
 */
export function showValue(value: string | null | undefined, max = VALUE_PREVIEW_CHARS): ShownValue {
  if (value === null || value === undefined || value === '') return { text: '(empty)', full: null };
  if (value.length <= max) return { text: visibleText(value), full: null };
  // Never half of a character beyond the 16-bit range (an emoji): its lone first half reads as "�".
  const end = isFirstHalfOfPair(value.charCodeAt(max - 1)) ? max - 1 : max;
  const cut = value.slice(0, end);
  const space = cut.lastIndexOf(' ');
  return {
    text: visibleText(`${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`),
    full: visibleText(value),
  };
}

const isFirstHalfOfPair = (code: number) => code >= 0xd800 && code <= 0xdbff;

export interface DiffRow {
  property: string;
  current: ShownValue;
  proposed: ShownValue;
  /** What a person edited the proposal to, if anyone did. */
  edited: ShownValue | null;
  status: ApprovalItemView['status'];
}

export function diffRows(card: PendingApprovalCard): DiffRow[] {
  return card.approval.items.map((item) => ({
    property: item.property,
    current: showValue(item.before),
    proposed: showValue(item.proposed),
    edited: item.edited === undefined ? null : showValue(item.edited),
    status: item.status,
  }));
}

/** "92% confident" or null; agents are not required to give a confidence. */
export function confidenceLabel(evidence: Evidence | null): string | null {
  if (evidence?.confidence === undefined) return null;
  return `${Math.round(evidence.confidence * 100)}% confident`;
}

/** Only http(s) links are offered: the agent wrote the URL, and a javascript: link must never be clickable. */
export function sourceLink(evidence: Evidence | null): { label: string; href: string | null } | null {
  if (!evidence?.source && !evidence?.url) return null;
  const href = evidence.url && /^https?:\/\//i.test(evidence.url) ? evidence.url : null;
  return { label: visibleText(evidence.source ?? evidence.url ?? 'source'), href };
}

/** One plain sentence when any kill switch is engaged: what it stops and why. */
export function killSwitchNotice(
  switches: EngagedKillSwitch[],
  agentName: (id: string) => string | undefined = () => undefined,
): string | null {
  if (switches.length === 0) return null;
  const parts = switches.map((row) => {
    const what =
      row.scope === 'workspace'
        ? 'All agents are stopped'
        : row.scope === 'agent'
          ? `Agent ${agentName(row.target ?? '') ?? row.target} is stopped`
          : `${row.target} actions are stopped`;
    return `${what}: ${row.reason}`;
  });
  return visibleText(`${parts.join('. ')}.`);
}

/** Recent changes grouped by change set, newest first, as the card lists them. */
export function groupByChangeSet<T extends { changeSetId: string }>(
  changes: T[],
): { changeSetId: string; changes: T[] }[] {
  return [...Map.groupBy(changes, (change) => change.changeSetId)].map(([changeSetId, grouped]) => ({
    changeSetId,
    changes: grouped,
  }));
}

/**
 * What "edit then approve" starts from: each value as it now stands, a person's edit (a first
 * approver's, on a two-person item) over the agent's proposal; empty when cleared.
 */
export function editStartValues(card: PendingApprovalCard): Record<string, string> {
  return Object.fromEntries(
    card.approval.items.map((item) => [item.property, (item.edited !== undefined ? item.edited : item.proposed) ?? '']),
  );
}

/**
 * The edits a decision sends: only the values the person changed from where they started, so an
 * untouched value keeps its proposal or an earlier approver's edit, and is not recorded as edited.
 */
export function changedEdits(card: PendingApprovalCard, values: Record<string, string>): Record<string, string> {
  const start = editStartValues(card);
  return Object.fromEntries(Object.entries(values).filter(([property, value]) => value !== start[property]));
}
