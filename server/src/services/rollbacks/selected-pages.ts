import { type RollbackSelector, rollbackSelectorSchema } from '../../../../shared/rollback-api.ts';
import type { Db } from '../../store/database.ts';
import type { RollbackRow } from '../../store/rollback-store.ts';
import type { ServiceDeps } from '../common/index.ts';

/**
 * Undoes what a rollback selected of one kind (creations, associations; issue 21) a page of
 * `limit` rows at a time. `undo` marks each row it handles with the rollback, so the next page
 * (and a resumed run) starts after them. `mayGoOn` is asked before each page's CRM calls (a kill
 * switch, a pause, a lost lease): returns false when it said no, true once nothing selected is left.
 */
export async function undoSelectedPages<Row>(
  deps: ServiceDeps,
  rollback: RollbackRow,
  input: {
    nextPage: (db: Db, query: { workspaceId: string; selector: RollbackSelector; limit: number }) => Promise<Row[]>;
    limit: number;
    undo: (page: Row[]) => Promise<void>;
    mayGoOn: () => Promise<boolean>;
  },
): Promise<boolean> {
  const selector = rollbackSelectorSchema.parse(rollback.selector);
  for (;;) {
    const page = await input.nextPage(deps.db, { workspaceId: rollback.workspaceId, selector, limit: input.limit });
    if (page.length === 0) return true;
    if (!(await input.mayGoOn())) return false;
    await input.undo(page);
  }
}
