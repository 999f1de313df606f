import { ROLE_STRENGTH, permissionsFor } from '../../domain/extension-access.ts';
import { AppError } from '../../errors.ts';
import { hashToken, newToken } from '../../secrets.ts';
import {
  consumeSignInLink,
  endSession,
  findLiveSession,
  findLiveSignInLink,
  insertSession,
  insertSignInLink,
} from '../../store/console-store.ts';
import { listPeople } from '../../store/people-store.ts';
import { findWorkspace, type WorkspaceRow } from '../../store/workspace-store.ts';
import type { ServiceDeps } from '../common/index.ts';
import type { ExtensionCaller } from '../extension/index.ts';
import { resolvePerson } from '../governance/index.ts';

/** Long enough to copy from a terminal into a browser, short enough that a leaked link is soon worthless. */
export const SIGN_IN_LINK_TTL_MS = 15 * 60_000;
/** A working day; then the person asks for a new link. */
export const CONSOLE_SESSION_TTL_MS = 8 * 60 * 60_000;

export interface IssuedSignInLink {
  /** Shown once: only its hash is stored. */
  token: string;
  crmUserId: string;
  role: string;
  expiresAt: Date;
}

/**
 * A one-time link into the web console for a person of the workspace: the one named, or else its
 * strongest-ranked person with their own role (the demo's approver), so `console-link --workspace`
 * alone works on a fresh workspace.
 */
export async function issueSignInLink(
  deps: ServiceDeps,
  input: { workspaceId: string; crmUserId?: string | undefined },
): Promise<IssuedSignInLink> {
  const workspace = await activeWorkspace(deps, input.workspaceId);
  const crmUserId = input.crmUserId ?? (await strongestPerson(deps, workspace.id));
  const person = await resolvePerson(deps, workspace, crmUserId);
  if (!person)
    throw new AppError(
      'VALIDATION_FAILED',
      `CRM user ${crmUserId} has no role in workspace ${workspace.id}; give one first ("people set").`,
    );
  const token = newToken('sil');
  const now = deps.clock();
  const expiresAt = new Date(now.getTime() + SIGN_IN_LINK_TTL_MS);
  await insertSignInLink(deps.db, {
    tokenHash: hashToken(token),
    workspaceId: workspace.id,
    crmUserId,
    createdAt: now,
    expiresAt,
  });
  return { token, crmUserId, role: person.role, expiresAt };
}

const linkInvalid = () =>
  new AppError(
    'UNAUTHENTICATED',
    'This sign-in link was already used, has expired or was never issued; ask for a new one ("console-link").',
    { details: { reason: 'sign_in_link_invalid' } },
  );

/**
 * Who a sign-in link would sign in, spending nothing: opening the link only shows this, so a
 * link-preview bot or an `<img>` that fetches it neither spends it nor signs anyone in.
 */
export async function peekSignInLink(
  deps: ServiceDeps,
  linkToken: string,
): Promise<{ workspaceName: string; crmUserId: string }> {
  const link = await findLiveSignInLink(deps.db, hashToken(linkToken), deps.clock());
  const workspace = link ? await findWorkspace(deps.db, link.workspaceId) : undefined;
  if (!link || !workspace || workspace.removedAt) throw linkInvalid();
  return { workspaceName: workspace.name, crmUserId: link.crmUserId };
}

/** Spends a sign-in link on a new session; the session's token is new whatever the browser held before (no fixation). */
export async function signInWithLink(
  deps: ServiceDeps,
  linkToken: string,
): Promise<{ sessionToken: string; expiresAt: Date }> {
  const now = deps.clock();
  const link = await consumeSignInLink(deps.db, hashToken(linkToken), now);
  if (!link) throw linkInvalid();
  const sessionToken = newToken('ses');
  const expiresAt = new Date(now.getTime() + CONSOLE_SESSION_TTL_MS);
  await insertSession(deps.db, { tokenHash: hashToken(sessionToken), ...link, createdAt: now, expiresAt });
  return { sessionToken, expiresAt };
}

/**
 * The person behind a console session, with the role they hold now (a role taken away since
 * sign-in takes effect on their next request), in the same shape as the HubSpot app's caller so
 * both share the views and the permission checks.
 */
export async function authenticateConsoleSession(
  deps: ServiceDeps,
  sessionToken: string | undefined,
): Promise<ExtensionCaller> {
  const session = sessionToken ? await findLiveSession(deps.db, hashToken(sessionToken), deps.clock()) : undefined;
  if (!session)
    // Said to a person mid-action too (a session of 8 hours ends under an open page): what to do, and that nothing happened.
    throw new AppError(
      'UNAUTHENTICATED',
      'Your console session has ended (a session lasts 8 hours) or never began: open a new sign-in link (an admin makes one with "console-link") in another tab to keep what you typed here, then try again. Nothing was changed.',
      {
        details: { reason: 'session_missing' },
      },
    );
  const workspace = await findWorkspace(deps.db, session.workspaceId);
  const person = workspace && !workspace.removedAt && (await resolvePerson(deps, workspace, session.crmUserId));
  if (!workspace || !person)
    throw new AppError('FORBIDDEN', `CRM user ${session.crmUserId} no longer has a role in this workspace.`, {
      details: { reason: 'person_unknown' },
    });
  return {
    workspace,
    person,
    via: 'console',
    caller: {
      portalId: workspace.hubspotPortalId,
      userId: session.crmUserId,
      ownerId: person.crmOwnerId,
      permissions: permissionsFor(person.role),
    },
  };
}

export async function signOut(deps: ServiceDeps, sessionToken: string): Promise<void> {
  await endSession(deps.db, hashToken(sessionToken), deps.clock());
}

async function activeWorkspace(deps: ServiceDeps, workspaceId: string): Promise<WorkspaceRow> {
  const workspace = await findWorkspace(deps.db, workspaceId);
  if (!workspace || workspace.removedAt) throw new AppError('NOT_FOUND', `There is no workspace ${workspaceId}.`);
  return workspace;
}

async function strongestPerson(deps: ServiceDeps, workspaceId: string): Promise<string> {
  const people = await listPeople(deps.db, workspaceId);
  const strongest = people.toSorted((a, b) => ROLE_STRENGTH.indexOf(a.role) - ROLE_STRENGTH.indexOf(b.role))[0];
  if (!strongest)
    throw new AppError(
      'VALIDATION_FAILED',
      `Workspace ${workspaceId} has nobody with a role yet; give one ("people set"), or name a person with --person.`,
    );
  return strongest.crmUserId;
}
