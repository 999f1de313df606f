import type { CrmPort, SignedRequestCheck } from '../../crm/port.ts';
import { asJson, type JsonObject } from '../../domain/audit-chain.ts';
import type { SecretBox } from '../../secrets.ts';
import type { Db } from '../../store/database.ts';
import type { WorkspaceRow } from '../../store/workspace-store.ts';
import type { WorkBehindAnswers } from './behind-answers.ts';
import type { Outbound } from './outbound.ts';
import type { WorkspaceTurns } from './workspace-turns.ts';

/** What every use case needs, passed in (no module singletons) so tests build it with any clock or CRM. */
export interface ServiceDeps {
  db: Db;
  clock: () => Date;
  secrets: SecretBox;
  crmFor: (workspace: WorkspaceRow) => CrmPort;
  /** Checks the CRM's signature on a request it sent us (webhooks, the app's fetches). */
  checkSignedRequest: SignedRequestCheck;
  /** How deliveries reach the URLs and SMTP hosts workspaces configure: public addresses and the operator's allowed networks only. */
  outbound: Outbound;
  /** Who holds the change sets this process writes, and for how long per renewal (issue 17); defaults when unset. */
  changeSetLease?: ChangeSetLease;
  /** After this long, an approval's write claimed by a process that died is taken again; defaults to five minutes. */
  approvalApplyClaimMs?: number;
  /** Runs what a request need not wait for (the CRM write of a value approved from the console); unset, requests wait for it. */
  behindAnswers?: WorkBehindAnswers;
  /**
   * A workspace's change sets wait here for their turn, so a flood of them takes one workspace's share of
   * the server, not ten (issue 23); unset, none wait.
   */
  changeSetTurns?: WorkspaceTurns;
}

export interface ChangeSetLease {
  /** Names this process (host, pid, random): another server takes a change set over only once its lease lapsed. */
  holder: string;
  leaseMs: number;
}

/** Who did something, as the audit log records it. */
export type Actor =
  | {
      type: 'agent';
      agentId: string;
      name: string;
      role: string;
      onBehalfOf?: { crmUserId: string; delegationId: string };
    }
  | { type: 'admin'; via: 'cli' | 'api'; name: string }
  /** A person deciding an approval; `role` is the one `people` held when they decided (null: not registered). */
  | {
      type: 'person';
      name: string;
      crmUserId: string;
      role: string | null;
      /** `cli`: an admin at the CLI naming themself, as one asking for an erasure under dual control does. */
      via: 'admin_api' | 'hubspot_app' | 'console' | 'cli';
    }
  | { type: 'system'; name: string };

export function actorJson(actor: Actor): JsonObject {
  return asJson(actor);
}
