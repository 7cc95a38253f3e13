import type { Page, PageRequest } from '../db/repositories/pagination';
import { invalidParam } from './errors';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

export interface ListEnvelope<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  /** Pass as starting_after to get the next page; null on the last page. */
  next_cursor: string | null;
}

export function queryString(query: Record<string, unknown>, param: string): string | undefined {
  const raw = query[param];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 255) {
    throw invalidParam(param, 'must be given once, as a non-empty string');
  }
  return raw;
}

export function parsePage(query: Record<string, unknown>): PageRequest {
  const rawLimit = queryString(query, 'limit');
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== undefined) {
    limit = /^\d{1,3}$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT))
      throw invalidParam('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return { limit, startingAfter: queryString(query, 'starting_after') };
}

export function listEnvelope<R, T>(
  page: Page<R>,
  toJson: (row: R) => T,
  cursorOf: (row: R) => string,
): ListEnvelope<T> {
  const last = page.data.at(-1);
  return {
    object: 'list',
    data: page.data.map(toJson),
    has_more: page.hasMore,
    next_cursor: page.hasMore && last !== undefined ? cursorOf(last) : null,
  };
}
