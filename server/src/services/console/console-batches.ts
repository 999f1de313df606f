import type { BatchesPage } from '../../../../shared/console-api.ts';
import type { ServiceDeps } from '../common/index.ts';
import { type ExtensionCaller, homeView } from '../extension/index.ts';
import { decodeCursor, encodeCursor } from './keyset.ts';

/** Batches newest first, as the HubSpot app's home lists them, a page at a time by keyset (last change, batch id). */
export async function batchesPage(
  deps: ServiceDeps,
  { workspace, caller }: ExtensionCaller,
  query: { limit: number; cursor?: string | undefined },
): Promise<BatchesPage> {
  const after = decodeCursor(query.cursor);
  const view = await homeView(deps, workspace, caller, {
    limit: query.limit + 1,
    before: after && { lastAt: after.at, batchId: after.key },
  });
  const batches = view.batches.slice(0, query.limit);
  const last = batches.at(-1);
  const next = view.batches.length > query.limit && last ? encodeCursor(new Date(last.lastAt), last.batchId) : null;
  return { ...view, batches, next };
}
