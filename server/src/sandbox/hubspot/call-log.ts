/** One request the fake answered; `route` is the template (`POST /crm/v3/objects/{type}/batch/read`) so calls can be counted per endpoint. */
export interface CallLogEntry {
  method: string;
  path: string;
  route: string;
  status: number;
  at: number;
}

export class CallLog {
  readonly entries: CallLogEntry[] = [];

  record(entry: CallLogEntry): void {
    this.entries.push(entry);
  }

  /** Counts calls matching every given field; `route` may be written with or without the method. */
  count(filter: { method?: string; route?: string; status?: number } = {}): number {
    return this.entries.filter((entry) => matches(entry, filter)).length;
  }

  clear(): void {
    this.entries.length = 0;
  }
}

function matches(entry: CallLogEntry, filter: { method?: string; route?: string; status?: number }): boolean {
  if (filter.method !== undefined && entry.method !== filter.method.toUpperCase()) return false;
  if (filter.status !== undefined && entry.status !== filter.status) return false;
  if (filter.route !== undefined && entry.route !== filter.route && !entry.route.endsWith(` ${filter.route}`))
    return false;
  return true;
}
