/**
 * Custom object schemas, their records and default associations, as far as the app uses them:
 * the approval object (issue 5). Records keep current values only; nothing reads their history.
 */
export interface CustomObjectSchema {
  id: string;
  objectTypeId: string;
  name: string;
  fullyQualifiedName: string;
  labels: { singular: string; plural: string };
  primaryDisplayProperty: string;
  associatedObjects: string[];
  properties: { name: string; label: string; type: string; fieldType: string; hasUniqueValue: boolean }[];
  createdAt: number;
}

export interface CustomRecord {
  id: string;
  properties: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

export interface CustomObjectStore {
  schema: CustomObjectSchema;
  records: Map<string, CustomRecord>;
}

/**
 * Custom objects by object type id, default associations as `type:id` → linked `type:id`s, and
 * companies (id → name): the app reads no company property, it only links records to them (issue 21).
 */
export interface CustomObjectState {
  objects: Map<string, CustomObjectStore>;
  associations: Map<string, Set<string>>;
  companies: Map<string, string>;
}

export function createCustomObjectState(): CustomObjectState {
  return { objects: new Map(), associations: new Map(), companies: new Map() };
}

/** The sandbox saves custom objects with the rest of its state, so a restart keeps bootstrap's work. */
export interface CustomObjectSnapshot {
  objects: { schema: CustomObjectSchema; records: CustomRecord[] }[];
  associations: [string, string[]][];
  /** Absent from files written before companies existed. */
  companies?: [string, string][];
}

export function snapshotCustomObjects(custom: CustomObjectState): CustomObjectSnapshot {
  return {
    objects: [...custom.objects.values()].map((store) => ({
      schema: store.schema,
      records: [...store.records.values()],
    })),
    associations: [...custom.associations].map(([from, to]) => [from, [...to]]),
    companies: [...custom.companies],
  };
}

export function restoreCustomObjects(custom: CustomObjectState, snapshot: CustomObjectSnapshot): void {
  custom.objects.clear();
  for (const saved of snapshot.objects)
    custom.objects.set(saved.schema.objectTypeId, {
      schema: saved.schema,
      records: new Map(saved.records.map((record) => [record.id, record])),
    });
  custom.associations.clear();
  for (const [from, to] of snapshot.associations) custom.associations.set(from, new Set(to));
  custom.companies.clear();
  for (const [id, name] of snapshot.companies ?? []) custom.companies.set(id, name);
}
