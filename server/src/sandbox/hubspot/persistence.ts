import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { restoreCustomObjects, snapshotCustomObjects, type CustomObjectSnapshot } from './custom-object-state.ts';
import type { FakePropertyDefinition, FakePropertyGroup } from './property-defaults.ts';
import { FAKE_OBJECT_TYPES, type FakeRecord, type HistoryEntry, type HubSpotState } from './state.ts';
import { parseJson } from '../../../../shared/json-text.ts';

/**
 * The sandbox's state on disk: records with their full history, property definitions and groups
 * (so bootstrapped provenance properties survive a restart), and the id counter. Faults and the
 * call log are deliberately left out: a restart starts with a well-behaved HubSpot.
 */
const historyEntrySchema = z.object({
  value: z.string(),
  timestamp: z.number(),
  sourceType: z.enum(['API', 'CRM_UI', 'WORKFLOW', 'IMPORT']),
  sourceId: z.string(),
  updatedByUserId: z.number().optional(),
});

const recordSchema = z.object({
  id: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  history: z.record(z.string(), z.array(historyEntrySchema)),
});

// Property definitions are ours to write and read back; their inner shape is checked by the type, not re-validated.
const objectSchema = z.object({
  records: z.array(recordSchema),
  properties: z.array(
    z.custom<FakePropertyDefinition>((value) => typeof value === 'object' && value !== null && 'name' in value),
  ),
  groups: z.array(
    z.custom<FakePropertyGroup>((value) => typeof value === 'object' && value !== null && 'name' in value),
  ),
});

const snapshotSchema = z.object({
  version: z.literal(1),
  nextId: z.number().int(),
  objects: z.object({ contacts: objectSchema, deals: objectSchema }),
  // Absent from files written before custom objects existed.
  custom: z
    .custom<CustomObjectSnapshot>((value) => typeof value === 'object' && value !== null && 'objects' in value)
    .optional(),
});

export type StateSnapshot = z.infer<typeof snapshotSchema>;

export function snapshotState(state: HubSpotState): StateSnapshot {
  const objects = Object.fromEntries(
    FAKE_OBJECT_TYPES.map((type) => {
      const store = state.objects[type];
      return [
        type,
        {
          records: [...store.records.values()].map((record) => ({
            id: record.id,
            createdAt: record.createdAt,
            updatedAt: record.updatedAt,
            history: Object.fromEntries(record.history),
          })),
          properties: [...store.properties.values()],
          groups: [...store.groups.values()],
        },
      ];
    }),
  ) as StateSnapshot['objects'];
  return { version: 1, nextId: state.nextId, objects, custom: snapshotCustomObjects(state.custom) };
}

/** Replaces the state's records, properties and groups with the snapshot's, without notifying listeners. */
export function restoreState(state: HubSpotState, snapshot: StateSnapshot): void {
  for (const type of FAKE_OBJECT_TYPES) {
    const store = state.objects[type];
    const saved = snapshot.objects[type];
    store.records.clear();
    for (const record of saved.records) {
      const restored: FakeRecord = {
        id: record.id,
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
        history: new Map<string, HistoryEntry[]>(Object.entries(record.history)),
      };
      store.records.set(record.id, restored);
    }
    store.properties.clear();
    for (const definition of saved.properties) store.properties.set(definition.name, definition);
    store.groups.clear();
    for (const group of saved.groups) store.groups.set(group.name, group);
  }
  restoreCustomObjects(state.custom, snapshot.custom ?? { objects: [], associations: [] });
  state.nextId = snapshot.nextId;
}

export interface StateFile {
  /** True when the file existed and was loaded into the state. */
  readonly loaded: boolean;
  /** Writes any pending change now. */
  flush(): void;
  /** Flushes and stops listening. */
  close(): void;
}

/**
 * Loads the state from `file` if it exists, then saves it after every change, at most once per
 * `debounceMs`. Writes go to a temporary file renamed over the old one, so a crash mid-write
 * leaves the previous state, not half a JSON document.
 */
export function persistStateToFile(state: HubSpotState, options: { file: string; debounceMs?: number }): StateFile {
  const { file } = options;
  const debounceMs = options.debounceMs ?? 200;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let loaded = false;
  if (fs.existsSync(file)) {
    const parsed = snapshotSchema.safeParse(parseJson(fs.readFileSync(file, 'utf8')));
    if (!parsed.success)
      throw new Error(
        `The sandbox state file ${file} is not valid (${parsed.error.issues[0]?.message ?? 'unknown problem'}); move it away to start afresh.`,
      );
    restoreState(state, parsed.data);
    loaded = true;
  }

  let timer: NodeJS.Timeout | undefined;
  const write = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(snapshotState(state)));
    fs.renameSync(temporary, file);
  };
  const listener = () => {
    timer ??= setTimeout(write, debounceMs);
  };
  state.listeners.add(listener);
  return {
    loaded,
    flush() {
      if (timer !== undefined) write();
    },
    close() {
      state.listeners.delete(listener);
      if (timer !== undefined) write();
    },
  };
}
