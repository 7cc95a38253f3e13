// Stripe's v1 list contract, shared by every list endpoint: newest first, a `limit` of 1 to 100, an
// object-id cursor in either direction, and `created` ranges. The SDK's auto-pagination walks these pages by
// the last id it saw, so the cursors have to behave exactly as on Stripe for `for await` to see every object.
import { type FormObject, isFormObject } from './form-body';
import { optionalInteger, optionalString, optionalStringList } from './params';
import { invalidParam, noSuchObject } from './stripe-error';

export interface ListPage<T> {
  object: 'list';
  url: string;
  has_more: boolean;
  data: T[];
}

interface Listed {
  id: string;
  created: number;
}

/** The parameters every list endpoint takes; each endpoint adds its own filters. */
export const LIST_PARAMS: readonly string[] = [
  'limit',
  'starting_after',
  'ending_before',
  'created',
  'expand',
];

const rangeKeys = ['gt', 'gte', 'lt', 'lte'] as const;

/** `created=<unix>` or `created[gt|gte|lt|lte]=<unix>`, as a predicate. */
export function createdFilter(params: FormObject, name = 'created'): (created: number) => boolean {
  const value = params[name];
  if (value === undefined) return () => true;
  if (!isFormObject(value)) {
    const exact = optionalInteger(params, name) as number;
    return (created) => created === exact;
  }
  const bounds: Partial<Record<(typeof rangeKeys)[number], number>> = {};
  for (const key of Object.keys(value)) {
    if (!(rangeKeys as readonly string[]).includes(key)) {
      throw invalidParam(`Received unknown parameter: ${name}[${key}]`, {
        code: 'parameter_unknown',
        param: `${name}[${key}]`,
      });
    }
    const raw = value[key];
    const bound = typeof raw === 'string' && /^-?\d{1,16}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(bound)) {
      throw invalidParam(
        `Invalid integer: ${typeof raw === 'string' ? JSON.stringify(raw) : 'a hash or list'}`,
        {
          code: 'parameter_invalid_integer',
          param: `${name}[${key}]`,
        },
      );
    }
    bounds[key as (typeof rangeKeys)[number]] = bound;
  }
  const { gt, gte, lt, lte } = bounds;
  return (created) =>
    (gt === undefined || created > gt) &&
    (gte === undefined || created >= gte) &&
    (lt === undefined || created < lt) &&
    (lte === undefined || created <= lte);
}

/**
 * Refuses any `expand` the endpoint does not model: answering with an id where the caller asked for an
 * object would fail far from the cause. Returns the requested paths.
 */
export function expansions(params: FormObject, allowed: readonly string[]): string[] {
  const paths = optionalStringList(params, 'expand') ?? [];
  for (const path of paths) {
    if (!allowed.includes(path)) {
      throw invalidParam(`This property cannot be expanded (${path.slice(0, 100)}).`, { param: 'expand' });
    }
  }
  return paths;
}

/**
 * One page of `items` (in insertion order) after `filter`. The cursor is looked up among all items, not
 * only the filtered ones, so a cursor taken from an earlier page stays valid whatever the filter.
 */
export function listPage<T extends Listed>(
  items: Iterable<T>,
  params: FormObject,
  opts: { url: string; kind: string; filter?: (item: T) => boolean },
): ListPage<T> {
  const limit = optionalInteger(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) {
    throw invalidParam('Limit must be between 1 and 100.', {
      code: 'parameter_invalid_integer',
      param: 'limit',
    });
  }
  const inCreated = createdFilter(params);
  const keep = (item: T) => inCreated(item.created) && (opts.filter?.(item) ?? true);
  // Newest first; among equal `created` seconds, the later-made object first (sort is stable).
  const newestFirst = [...items].reverse().sort((a, b) => b.created - a.created);

  const startingAfter = optionalString(params, 'starting_after');
  const endingBefore = optionalString(params, 'ending_before');
  const position = (id: string, param: string) => {
    const index = newestFirst.findIndex((item) => item.id === id);
    if (index === -1) throw noSuchObject(opts.kind, id, param);
    return index;
  };
  if (endingBefore) {
    const before = newestFirst.slice(0, position(endingBefore, 'ending_before')).filter(keep);
    const start = Math.max(0, before.length - limit);
    return { object: 'list', url: opts.url, has_more: start > 0, data: before.slice(start) };
  }
  const start = startingAfter ? position(startingAfter, 'starting_after') + 1 : 0;
  const after = newestFirst.slice(start).filter(keep);
  return { object: 'list', url: opts.url, has_more: after.length > limit, data: after.slice(0, limit) };
}
