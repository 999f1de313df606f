import { AppError } from '../../errors.ts';
import { hashToken, newToken } from '../../secrets.ts';
import { insertSession } from '../../store/console-store.ts';
import { findWorkspace } from '../../store/workspace-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import { resolvePerson } from '../governance/index.ts';
import { CONSOLE_SESSION_TTL_MS } from './console-sessions.ts';

/**
 * The console opened inside the CRM (issue 20: a Salesforce Canvas app). The CRM signs what it
 * says of the person; its adapter checks that signature before anything of the request is read.
 */
export interface EmbeddedAppRequest {
  /** The CRM user opening the console: their role is the one `people` gives them, as everywhere. */
  crmUserId: string;
  /** The CRM account (Salesforce org) the request came from, as a workspace's connection names it. */
  accountId: string;
  /** The record whose page the console is on, when it is on one. */
  recordId: string | null;
  /** The only origins that may frame the console for this account. */
  frameAncestors: string[];
}

/** Checks a signed request with the app's secrets; `ok: false` says nothing of why (the caller answers 401 and no more). */
export type EmbeddedAppCheck = (
  signedRequest: string,
  secrets: readonly string[],
) => { ok: true; request: EmbeddedAppRequest } | { ok: false };

/** A console session for a person the CRM vouched for, as a sign-in link would start. */
export async function startEmbeddedSession(
  deps: ServiceDeps,
  input: { workspaceId: string; request: EmbeddedAppRequest },
): Promise<{ sessionToken: string; expiresAt: Date; role: string }> {
  const workspace = await findWorkspace(deps.db, input.workspaceId);
  // One app's secret signs requests from every account it is installed in: the signature says who
  // the person is, not that this workspace governs the account they are in. An unknown or removed
  // workspace answers as another account's does, so a request signed anywhere tells no id from another.
  if (
    !workspace ||
    workspace.removedAt ||
    !workspace.connections.some((connection) => connection.accountId === input.request.accountId)
  )
    throw new AppError(
      'FORBIDDEN',
      `This workspace is not connected to CRM account ${input.request.accountId}, where the request came from.`,
      { details: { reason: 'account_not_connected' } },
    );
  const person = await resolvePerson(deps, workspace, input.request.crmUserId);
  if (!person)
    throw new AppError(
      'FORBIDDEN',
      `CRM user ${input.request.crmUserId} has no role in this workspace; an admin gives one ("people set").`,
      { details: { reason: 'person_unknown' } },
    );
  const sessionToken = newToken('ses');
  const now = deps.clock();
  const expiresAt = new Date(now.getTime() + CONSOLE_SESSION_TTL_MS);
  await insertSession(deps.db, {
    tokenHash: hashToken(sessionToken),
    workspaceId: workspace.id,
    crmUserId: input.request.crmUserId,
    createdAt: now,
    expiresAt,
  });
  return { sessionToken, expiresAt, role: person.role };
}
