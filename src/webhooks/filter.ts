// Event filters: exact types (`message.received`) or a prefix wildcard (`message.*`, `*`).
export type EventFilter = readonly string[] | null

export function matchesFilter(filter: EventFilter, type: string): boolean {
  if (filter === null || filter.length === 0) return true
  return filter.some((f) => f === '*' || f === type || (f.endsWith('.*') && type.startsWith(f.slice(0, -1))))
}

/** A filter entry is an event type, `prefix.*` or `*`. */
export const FILTER_ENTRY_PATTERN = '^(\\*|[a-z]+(\\.[a-z_]+)*(\\.\\*)?)$'
