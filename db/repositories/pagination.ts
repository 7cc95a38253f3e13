import type { Knex } from 'knex';

export interface PageRequest {
  limit: number;
  /** Cursor: the key of the last row of the previous page. */
  startingAfter?: string;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

/**
 * Keyset pagination: rows ordered by a unique key (ids are time-ordered), one extra row fetched to know
 * whether another page follows. Unlike offsets, pages stay stable while rows are being added.
 */
export async function fetchPage<Row, T>(
  query: Knex.QueryBuilder,
  page: PageRequest,
  column: string,
  map: (row: Row) => T,
): Promise<Page<T>> {
  if (page.startingAfter !== undefined) query.where(column, '>', page.startingAfter);
  const rows = (await query.orderBy(column, 'asc').limit(page.limit + 1)) as Row[];
  const hasMore = rows.length > page.limit;
  return { data: rows.slice(0, page.limit).map(map), hasMore };
}
