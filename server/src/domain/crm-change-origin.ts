import type { ChangeSource } from '../../../shared/crm-names.ts';

/**
 * Who made a change a CRM streamed to us (issue 20), from what its event says of the origin:
 * through which channel, with which API client id, run as what kind of user. Pure; the CRM's
 * adapter reads its own origin format into these facts.
 */
export interface ChangeOriginFacts {
  /** `api`: an API call; `ui`: the CRM's own pages; `internal`: no origin (the CRM's jobs, automation). */
  channel: 'api' | 'ui' | 'internal';
  /** The client id the caller declared on its API call, or null. */
  apiClient: string | null;
  /** What the user the change ran as is: the CRM's user directory says. */
  userKind: CommitUserKind;
}

/** `ai_agent`: a user the CRM runs its own AI agents as; `automation`: the user its automation runs as. */
export type CommitUserKind = 'person' | 'integration' | 'ai_agent' | 'automation' | 'unknown';

/**
 * Ours when our client id is on it (whoever it ran as: our integration user, or a person's
 * token); an AI agent's user is an AI agent whatever channel it used (the CRM's agents write
 * through its pages and APIs alike, and ungoverned); the CRM's pages are a person; another API
 * client is another integration unless it ran as the automation user; no origin is a workflow
 * when automation ran it, a person when a person's user did, otherwise the CRM itself.
 */
export function classifyChangeOrigin(facts: ChangeOriginFacts, ourClientId: string): ChangeSource {
  if (facts.apiClient !== null && facts.apiClient === ourClientId) return 'our_app';
  if (facts.userKind === 'ai_agent') return 'ai_agent';
  if (facts.userKind === 'automation') return 'workflow';
  switch (facts.channel) {
    case 'ui':
      return 'person';
    case 'api':
      return 'integration';
    default:
      return facts.userKind === 'person' ? 'person' : 'crm';
  }
}
