/**
 * Lets at most `perWorkspace` pieces of one workspace's work run at once in this process; the rest
 * wait their turn, in order, holding no database connection and taking no CPU (issue 23). Node shares
 * its CPU among everything in hand, so a workspace with ten change sets in flight took ten shares of the
 * server while each neighbour took one; and as they are decided one at a time under the workspace's
 * audit chain's lock, nine of the ten waited for it inside Postgres, each holding one of the server's
 * ten pooled connections, while every other workspace's queries queued for the last one.
 */
export interface WorkspaceTurns {
  /** `work` is told whether it waited for its turn: what was read before it may have changed meanwhile. */
  run<T>(workspaceId: string, work: (waited: boolean) => Promise<T>): Promise<T>;
}

export function workspaceTurns(perWorkspace: number): WorkspaceTurns {
  const queues = new Map<string, { running: number; waiting: (() => void)[] }>();
  return {
    async run(workspaceId, work) {
      const queue = queues.get(workspaceId) ?? { running: 0, waiting: [] };
      queues.set(workspaceId, queue);
      const waited = queue.running >= perWorkspace;
      if (waited) await new Promise<void>((resolve) => queue.waiting.push(resolve));
      else queue.running += 1;
      try {
        return await work(waited);
      } finally {
        const next = queue.waiting.shift();
        // The turn passes straight to the next in line; a workspace with nothing waiting is forgotten.
        if (next) next();
        else if (--queue.running === 0) queues.delete(workspaceId);
      }
    },
  };
}
