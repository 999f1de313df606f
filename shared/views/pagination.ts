import type { Page } from '../extension-api.ts';

export interface PageInfo {
  pageCount: number;
  hasPrevious: boolean;
  hasNext: boolean;
  /** "11–20 of 57", or "None" when empty. */
  label: string;
}

export function pageInfo(
  page: Pick<Page<unknown>, 'page' | 'pageSize' | 'total'> & { items: readonly unknown[] },
): PageInfo {
  const pageCount = Math.max(1, Math.ceil(page.total / page.pageSize));
  const first = (page.page - 1) * page.pageSize + 1;
  return {
    pageCount,
    hasPrevious: page.page > 1,
    hasNext: page.page < pageCount,
    label: page.total === 0 ? 'None' : `${first}–${first + page.items.length - 1} of ${page.total}`,
  };
}
