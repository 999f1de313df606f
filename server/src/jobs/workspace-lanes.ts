import { errorLogField, type Logger } from '../logger.ts';
import { startPollingLoop, type PollingLoop } from './polling-loop.ts';

/** One workspace's share of a job, as found or claimed: it resolves to how much it did. */
export interface LaneWork {
  workspaceId: string;
  work: () => Promise<number>;
}

/**
 * Runs a job's work in one lane per workspace (issue 23). A lane waiting on its portal (a 429 storm's
 * Retry-After, a backlog) holds up only its own workspace: the loop does not wait for it, and goes on
 * finding and starting other workspaces' work. `next` is given the workspaces whose lane runs here, to
 * leave out, and how many more lanes may start (`maxLanes` bounds the database connections lanes hold).
 * A lane that did work wakes the loop at its end, since a round takes a batch and more may be due.
 */
export function startWorkspaceLanes(options: {
  name: string;
  next: (running: readonly string[], room: number) => Promise<LaneWork[]>;
  logger: Logger;
  pollMs: number;
  maxLanes?: number;
}): PollingLoop {
  const maxLanes = options.maxLanes ?? 20;
  const lanes = new Map<string, Promise<void>>();
  const runLane = async ({ workspaceId, work }: LaneWork) => {
    let done = 0;
    try {
      done = await work();
    } catch (error) {
      // Its claims roll back or lapse; the work is found again on a later round.
      options.logger.error(`${options.name} failed`, { workspaceId, error: errorLogField(error) });
    } finally {
      lanes.delete(workspaceId);
    }
    if (done > 0) loop.wake();
  };
  const loop = startPollingLoop({
    name: options.name,
    logger: options.logger,
    pollMs: options.pollMs,
    round: async () => {
      const room = maxLanes - lanes.size;
      if (room <= 0) return 0;
      const found = (await options.next([...lanes.keys()], room)).filter((lane) => !lanes.has(lane.workspaceId));
      for (const lane of found) lanes.set(lane.workspaceId, runLane(lane));
      return found.length;
    },
  });
  return {
    wake: () => loop.wake(),
    async stop() {
      await loop.stop();
      await Promise.all(lanes.values());
    },
  };
}
