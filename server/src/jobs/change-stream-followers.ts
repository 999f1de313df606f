import { AppError } from '../errors.ts';
import { errorLogField, type Logger } from '../logger.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { recordCrmConnectionRefused, type WorkspaceRow } from '../services/governance/index.ts';
import { followChangeStream, listStreamingWorkspaces, type OpenChangeStream } from '../services/webhooks/index.ts';
import { startPollingLoop } from './polling-loop.ts';

export interface ChangeStreamFollowers {
  /** Closes every stream this server follows and releases their leases; another server takes them over. */
  stop(): Promise<void>;
}

/**
 * Follows the change stream of every Salesforce workspace (issue 20) while this server holds its
 * lease. Each round lists the workspaces and starts a follower for those this server does not
 * follow yet; one another server holds is tried again next round, so when that server dies (even
 * with kill -9) the stream moves here once its lease lapses, resuming at the stored replay ids. A
 * removed workspace's follower is stopped, and so is one whose org was disconnected. A stream whose
 * credentials were rotated (`workspace update`) is closed and opened again with the new ones: a stream
 * keeps the session it signed in with, so the old app would otherwise still be following. A stream that fails is opened again next round; one
 * whose connection Salesforce refused (a revoked app) is left alone until its credentials change, and the refusal is audited once
 * per credentials (`crm.connection_refused`, which alerts), however many servers and rounds see it.
 */
export function startChangeStreamFollowers(
  deps: ServiceDeps,
  options: {
    logger: Logger;
    holder: string;
    leaseMs: number;
    pollMs: number;
    openFor: (workspace: WorkspaceRow) => OpenChangeStream;
    onStored?: () => void;
  },
): ChangeStreamFollowers {
  /** Each followed workspace's follower, with the sealed credentials its stream signed in with. */
  const following = new Map<string, { abort: AbortController; done: Promise<void>; credentialsEnc: string }>();
  /** Workspaces whose org refused its connection, with the sealed credentials it refused: tried again once they change (`workspace update`). */
  const refused = new Map<string, string>();

  const follow = (workspace: WorkspaceRow, connection: WorkspaceRow['connections'][number]) => {
    const abort = new AbortController();
    const done = followChangeStream(deps, {
      workspaceId: workspace.id,
      connection,
      holder: options.holder,
      open: options.openFor(workspace),
      leaseMs: options.leaseMs,
      signal: abort.signal,
      ...(options.onStored ? { onStored: options.onStored } : {}),
    })
      .then((end) => {
        if (end === 'lease_lost') options.logger.info('change stream lease lost', { workspaceId: workspace.id });
      })
      .catch(async (error: unknown) => {
        options.logger.error('change stream failed', { workspaceId: workspace.id, error: errorLogField(error) });
        if (!(error instanceof AppError && error.code === 'CRM_AUTH_FAILED')) return;
        refused.set(workspace.id, connection.credentialsEnc);
        await recordCrmConnectionRefused(deps, workspace.id, {
          crm: 'salesforce',
          credentialsEnc: connection.credentialsEnc,
          reason: String((error.details as { oauthError?: unknown } | undefined)?.oauthError ?? 'refused'),
          seenBy: 'change-stream',
        }).catch((failure: unknown) =>
          options.logger.error('could not audit a refused connection', {
            workspaceId: workspace.id,
            error: errorLogField(failure),
          }),
        );
      })
      .finally(() => following.delete(workspace.id));
    following.set(workspace.id, { abort, done, credentialsEnc: connection.credentialsEnc });
  };

  const loop = startPollingLoop({
    name: 'change stream followers',
    logger: options.logger,
    pollMs: options.pollMs,
    round: async () => {
      const workspaces = await listStreamingWorkspaces(deps);
      const wanted = new Set(workspaces.map((workspace) => workspace.id));
      for (const [workspaceId, follower] of following) if (!wanted.has(workspaceId)) follower.abort.abort();
      for (const workspace of workspaces) {
        const connection = workspace.connections.find((each) => each.crm === 'salesforce');
        const follower = following.get(workspace.id);
        // Closed here, opened again with the new credentials in a round after it has ended.
        if (follower && connection && follower.credentialsEnc !== connection.credentialsEnc) follower.abort.abort();
        if (!connection || follower) continue;
        if (refused.get(workspace.id) === connection.credentialsEnc) continue;
        refused.delete(workspace.id);
        follow(workspace, connection);
      }
      // Never "found work": the followers run beside the loop, which only looks again after pollMs.
      return 0;
    },
  });

  return {
    async stop() {
      await loop.stop();
      for (const follower of following.values()) follower.abort.abort();
      await Promise.all([...following.values()].map((follower) => follower.done));
    },
  };
}
