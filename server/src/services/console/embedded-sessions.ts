import { embeddedPostOrigin, signedRequestStale } from '../../domain/embedded-app.ts';
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
  /** The person's own access token, which the CRM handed the app: asked of the CRM, it proves the request fresh. Never stored or logged. */
  userToken: string | null;
  /** When the CRM says it issued the request, if it says. */
  issuedAt: Date | null;
}

/** Where the browser says the request was posted from (`Origin`, `Sec-Fetch-Site`), as it sent them. */
export interface EmbeddedPostHeaders {
  origin: string | undefined;
  fetchSite: string | undefined;
}

/** Checks a signed request with the app's secrets; `ok: false` says nothing of why (the caller answers 401 and no more). */
export type EmbeddedAppCheck = (
  signedRequest: string,
  secrets: readonly string[],
) => { ok: true; request: EmbeddedAppRequest } | { ok: false };

/**
 * A console session for a person the CRM vouched for, as a sign-in link would start. A signature
 * holds for ever, so before a session starts: a request naming an issue time must be recent; one
 * a browser posted must come from the account's own pages (no other site signs a visitor in to
 * someone else's session); and the CRM, asked at the account's stored address, must still accept
 * the person's token and say it is theirs (a replayed request's token is dead). The answer names
 * the origins that may frame the console.
 */
export async function startEmbeddedSession(
  deps: ServiceDeps,
  input: { workspaceId: string; request: EmbeddedAppRequest; posted: EmbeddedPostHeaders },
): Promise<{ sessionToken: string; expiresAt: Date; role: string; frameAncestors: string[] }> {
  const { request } = input;
  const workspace = await findWorkspace(deps.db, input.workspaceId);
  // One app's secret signs requests from every account it is installed in: the signature says who
  // the person is, not that this workspace governs the account they are in. An unknown or removed
  // workspace answers as another account's does, so a request signed anywhere tells no id from another.
  if (
    !workspace ||
    workspace.removedAt ||
    !workspace.connections.some((connection) => connection.accountId === request.accountId)
  )
    throw notConnected(request.accountId);
  if (signedRequestStale(request.issuedAt, deps.clock()))
    throw new AppError(
      'UNAUTHENTICATED',
      'This signed request was issued too long ago to open the console: reopen the page in the CRM for a fresh one.',
      { details: { reason: 'signed_request_stale' } },
    );
  if (!request.userToken)
    throw new AppError(
      'UNAUTHENTICATED',
      'This signed request carries no access token of the person, so the CRM cannot confirm it is current: the app must be set so that admin-approved users are pre-authorized.',
      { details: { reason: 'crm_token_missing' } },
    );
  const embedded = deps.crmFor(workspace).embeddedApp;
  if (!embedded) throw notConnected(request.accountId);
  const origins = await embedded.origins();
  const posted = embeddedPostOrigin(input.posted, origins);
  if (!posted.ok)
    throw new AppError(
      'FORBIDDEN',
      posted.reason === 'origin_not_allowed'
        ? `The console opens only from the CRM account's own pages (${origins.join(', ')}); this request was posted from ${input.posted.origin}.`
        : "The console opens only from the CRM account's own pages; this browser posted from another site and withheld which.",
      { details: { reason: posted.reason } },
    );
  const owner = await embedded.userOfToken(request.userToken);
  if (owner.crmUserId !== request.crmUserId || owner.accountId !== request.accountId)
    throw new AppError(
      'UNAUTHENTICATED',
      "The access token this signed request carries is another person's or another account's: nothing was opened.",
      { details: { reason: 'crm_token_mismatch' } },
    );
  const person = await resolvePerson(deps, workspace, request.crmUserId);
  if (!person)
    throw new AppError(
      'FORBIDDEN',
      `CRM user ${request.crmUserId} has no role in this workspace; an admin gives one ("people set").`,
      { details: { reason: 'person_unknown' } },
    );
  const sessionToken = newToken('ses');
  const now = deps.clock();
  const expiresAt = new Date(now.getTime() + CONSOLE_SESSION_TTL_MS);
  await insertSession(deps.db, {
    tokenHash: hashToken(sessionToken),
    workspaceId: workspace.id,
    crmUserId: request.crmUserId,
    createdAt: now,
    expiresAt,
  });
  return { sessionToken, expiresAt, role: person.role, frameAncestors: origins };
}

function notConnected(accountId: string): AppError {
  return new AppError(
    'FORBIDDEN',
    `This workspace is not connected to CRM account ${accountId}, where the request came from.`,
    { details: { reason: 'account_not_connected' } },
  );
}
