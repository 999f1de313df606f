import type { AgentRole, ObjectType } from '../crm-names.ts';
import type { Policy, RoleTiers, Tier } from '../policy.ts';

/** The settings page's matrix: object × property × agent role → tier, edited without touching the rest of the policy. */

export const MATRIX_OBJECT_TYPES = ['contacts', 'deals'] as const satisfies readonly ObjectType[];
export const MATRIX_ROLES = [
  'prospecting',
  'enrichment',
  'outreach',
  'routing',
  'admin',
] as const satisfies readonly AgentRole[];
export const MATRIX_TIERS = ['auto', 'approval', 'two_person', 'deny'] as const satisfies readonly Tier[];

export interface MatrixRow {
  property: string;
  /** The tier each role gets; `inherited` when it comes from "*" or from the property being unnamed (deny). */
  cells: { role: AgentRole; tier: Tier; inherited: boolean }[];
}

function tierOf(tiers: RoleTiers, role: AgentRole): { tier: Tier; inherited: boolean } {
  const own = tiers[role];
  if (own) return { tier: own, inherited: false };
  return { tier: tiers['*'] ?? 'deny', inherited: true };
}

export function matrixRows(policy: Policy, objectType: ObjectType): MatrixRow[] {
  const properties = policy.objects[objectType]?.properties ?? {};
  return Object.keys(properties)
    .sort()
    .map((property) => ({
      property,
      cells: MATRIX_ROLES.map((role) => ({ role, ...tierOf(properties[property] ?? {}, role) })),
    }));
}

/** A new policy document with one cell changed; the input is left as it was (publishing makes a new version). */
export function withTier(
  policy: Policy,
  cell: { objectType: ObjectType; property: string; role: AgentRole; tier: Tier },
): Policy {
  const object = policy.objects[cell.objectType] ?? { properties: {} };
  const tiers = { ...object.properties[cell.property], [cell.role]: cell.tier };
  return {
    ...policy,
    objects: {
      ...policy.objects,
      [cell.objectType]: { ...object, properties: { ...object.properties, [cell.property]: tiers } },
    },
  };
}

/** Cells that differ between two policies, for the "publish N changes" summary. */
export function changedCells(before: Policy, after: Policy, objectTypes: readonly ObjectType[]): number {
  let changed = 0;
  for (const objectType of objectTypes) {
    const a = new Map(matrixRows(before, objectType).map((row) => [row.property, row]));
    for (const row of matrixRows(after, objectType)) {
      const old = a.get(row.property);
      changed += row.cells.filter((cell, index) => !old || old.cells[index]?.tier !== cell.tier).length;
    }
  }
  return changed;
}
