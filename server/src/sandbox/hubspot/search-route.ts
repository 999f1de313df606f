import { publicObject } from './object-routes.ts';
import { errorResponse, iso, json, type HubSpotResponse } from './responses.ts';
import { currentValue, type FakeObjectType, type FakeRecord, type HubSpotState } from './state.ts';

// HubSpot's documented search limits: 5 filter groups, 6 filters per group, 18 filters in all,
// 200 results per page, and no paging past the 10,000th result.
const MAX_GROUPS = 5;
const MAX_FILTERS_PER_GROUP = 6;
const MAX_FILTERS = 18;
const MAX_LIMIT = 200;
const MAX_RESULTS = 10_000;

const OPERATORS = [
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
] as const;
type Operator = (typeof OPERATORS)[number];

interface Filter {
  propertyName: string;
  operator: Operator;
  value?: string;
  values?: string[];
}

/**
 * `POST /crm/v3/objects/{type}/search`: filter groups OR'd, filters inside a group AND'd, as
 * HubSpot does, with its limits and its error wording. Sorting is by one property or by id.
 */
export function search(state: HubSpotState, objectType: FakeObjectType, body: unknown): HubSpotResponse {
  const request = (body ?? {}) as {
    filterGroups?: unknown;
    sorts?: unknown;
    properties?: unknown;
    limit?: unknown;
    after?: unknown;
  };
  const groups = parseGroups(request.filterGroups);
  if (typeof groups === 'string') return errorResponse(400, 'VALIDATION_ERROR', groups);
  const limit = request.limit === undefined ? 10 : Number(request.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    return errorResponse(400, 'VALIDATION_ERROR', `limit must be between 1 and ${MAX_LIMIT}.`);
  const after = request.after === undefined ? 0 : Number(request.after);
  if (!Number.isInteger(after) || after < 0)
    return errorResponse(400, 'VALIDATION_ERROR', 'after must be a non-negative integer offset.');
  if (after + limit > MAX_RESULTS)
    return errorResponse(
      400,
      'VALIDATION_ERROR',
      `Search results are limited to ${MAX_RESULTS} total; narrow the filters instead of paging further.`,
    );

  const indexedBefore = state.now() - state.faults.searchIndexLagMs;
  const records = [...state.objects[objectType].records.values()].filter(
    (record) =>
      record.createdAt <= indexedBefore &&
      (groups.length === 0 || groups.some((filters) => filters.every((filter) => matches(record, filter)))),
  );
  const sort = parseSort(request.sorts);
  records.sort(
    (a, b) =>
      compare(sort ? currentValue(a, sort.propertyName) : a.id, sort ? currentValue(b, sort.propertyName) : b.id) *
      (sort?.direction === 'DESCENDING' ? -1 : 1),
  );
  const properties = Array.isArray(request.properties)
    ? request.properties.filter((name): name is string => typeof name === 'string')
    : [];
  const page = records
    .slice(after, after + limit)
    .map((record) => publicObject(state, objectType, record, properties, []));
  const next =
    after + limit < records.length
      ? { paging: { next: { after: String(after + limit), link: `?after=${after + limit}` } } }
      : {};
  return json(200, { total: records.length, results: page, ...next, completedAt: iso(state.now()) });
}

function parseGroups(value: unknown): Filter[][] | string {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return 'filterGroups must be an array.';
  if (value.length > MAX_GROUPS) return `Too many filter groups: ${value.length}. The maximum is ${MAX_GROUPS}.`;
  const groups: Filter[][] = [];
  let total = 0;
  for (const group of value as unknown[]) {
    const filters = (group as { filters?: unknown } | null)?.filters;
    if (!Array.isArray(filters)) return 'Every filter group needs a "filters" array.';
    if (filters.length > MAX_FILTERS_PER_GROUP)
      return `Too many filters in a group: ${filters.length}. The maximum is ${MAX_FILTERS_PER_GROUP}.`;
    total += filters.length;
    if (total > MAX_FILTERS) return `Too many filters: ${total}. The maximum is ${MAX_FILTERS} across all groups.`;
    const parsed: Filter[] = [];
    for (const filter of filters as unknown[]) {
      const candidate = (filter ?? {}) as {
        propertyName?: unknown;
        operator?: unknown;
        value?: unknown;
        values?: unknown;
      };
      if (typeof candidate.propertyName !== 'string') return 'Every filter needs a propertyName.';
      if (!(OPERATORS as readonly unknown[]).includes(candidate.operator))
        return `Unknown operator ${JSON.stringify(candidate.operator)}; use one of ${OPERATORS.join(', ')}.`;
      parsed.push({
        propertyName: candidate.propertyName,
        operator: candidate.operator as Operator,
        ...(candidate.value === undefined ? {} : { value: String(candidate.value) }),
        ...(Array.isArray(candidate.values) ? { values: candidate.values.map(String) } : {}),
      });
    }
    groups.push(parsed);
  }
  return groups;
}

function parseSort(value: unknown): { propertyName: string; direction: 'ASCENDING' | 'DESCENDING' } | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : undefined;
  if (typeof first === 'string')
    return first.startsWith('-')
      ? { propertyName: first.slice(1), direction: 'DESCENDING' }
      : { propertyName: first, direction: 'ASCENDING' };
  const sort = first as { propertyName?: unknown; direction?: unknown } | undefined;
  if (typeof sort?.propertyName !== 'string') return undefined;
  return { propertyName: sort.propertyName, direction: sort.direction === 'DESCENDING' ? 'DESCENDING' : 'ASCENDING' };
}

function matches(record: FakeRecord, filter: Filter): boolean {
  const raw = filter.propertyName === 'hs_object_id' ? record.id : currentValue(record, filter.propertyName);
  const value = raw === '' ? undefined : raw;
  const wanted = filter.value ?? '';
  switch (filter.operator) {
    case 'HAS_PROPERTY':
      return value !== undefined;
    case 'NOT_HAS_PROPERTY':
      return value === undefined;
    case 'EQ':
      return value !== undefined && value.toLowerCase() === wanted.toLowerCase();
    case 'NEQ':
      return value === undefined || value.toLowerCase() !== wanted.toLowerCase();
    case 'IN':
      return (
        value !== undefined &&
        (filter.values ?? []).some((candidate) => candidate.toLowerCase() === value.toLowerCase())
      );
    case 'NOT_IN':
      return (
        value === undefined ||
        !(filter.values ?? []).some((candidate) => candidate.toLowerCase() === value.toLowerCase())
      );
    case 'CONTAINS_TOKEN':
      return value?.toLowerCase().includes(wanted.replaceAll('*', '').toLowerCase()) ?? false;
    case 'NOT_CONTAINS_TOKEN':
      return value === undefined || !value.toLowerCase().includes(wanted.replaceAll('*', '').toLowerCase());
    default:
      return value !== undefined && ordered(filter.operator, compare(value, wanted));
  }
}

function ordered(operator: 'LT' | 'LTE' | 'GT' | 'GTE', comparison: number): boolean {
  if (operator === 'LT') return comparison < 0;
  if (operator === 'LTE') return comparison <= 0;
  if (operator === 'GT') return comparison > 0;
  return comparison >= 0;
}

// Numbers (and record ids) compare as numbers, everything else as text; missing values sort last.
function compare(a: string | undefined, b: string | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  const x = Number(a);
  const y = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a.localeCompare(b);
}
