import type { PolicyWarning } from '../../../../shared/admin-api.ts';
import type { ObjectType } from '../../../../shared/crm-names.ts';
import type { Policy } from '../../../../shared/policy.ts';
import type { CrmPort, CrmPropertyDefinition } from '../../crm/port.ts';
import { isAppProperty } from './app-properties.ts';

/**
 * How long publishing waits for the CRM's property lists: a warning is worth no more than this to
 * an admin tightening a policy while the CRM is slow or down (retries alone could take seconds).
 */
const PROPERTY_LIST_WAIT_MS = 3_000;

/**
 * The properties a policy names on object types whose CRM does not refuse unknown ones at publish
 * (HubSpot: a portal may gain a property later, and bootstrap creates the app's own), which that
 * CRM does not have now: their rules match nothing until it does, so the admin is told. An object
 * type whose properties cannot be read in time is left out: nothing is said that is not known.
 */
export async function unknownPropertyWarnings(crm: CrmPort, policy: Policy): Promise<PolicyWarning[]> {
  const checked = crm.objectTypes.filter((objectType) => !crm.forObject(objectType).checksPolicyFieldsAtPublish);
  const perObject = await Promise.all(
    checked.map(async (objectType) => {
      const named = propertiesNamedOn(policy, objectType).filter((name) => !isAppProperty(crm, objectType, name));
      if (named.length === 0) return [];
      const cached = await propertiesWithin(crm, objectType);
      if (cached === undefined) return [];
      // A list up to ten minutes old may predate a property the admin has just made: asked again before saying so.
      const known = named.every((name) => cached.has(name)) ? cached : await propertiesWithin(crm, objectType, true);
      if (known === undefined) return [];
      return named
        .filter((property) => !known.has(property))
        .map(
          (property): PolicyWarning => ({
            code: 'unknown_property',
            objectType,
            property,
            message: `${objectType} has no property ${property} in the CRM: the policy's rules for it match nothing until the CRM has it (check the spelling against its internal name).`,
          }),
        );
    }),
  );
  return perObject.flat();
}

/** Each property a policy names on an object type, once: its tiers, its governed reads, its record conditions. */
function propertiesNamedOn(policy: Policy, objectType: ObjectType): string[] {
  const object = policy.objects[objectType];
  const named = new Set([...Object.keys(object?.properties ?? {}), ...Object.keys(object?.read ?? {})]);
  for (const condition of policy.conditions)
    if (condition.kind === 'record_matches' && condition.objectType === objectType) named.add(condition.property);
  return [...named];
}

async function propertiesWithin(
  crm: CrmPort,
  objectType: ObjectType,
  fresh = false,
): Promise<Map<string, CrmPropertyDefinition> | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const givenUp = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, PROPERTY_LIST_WAIT_MS, undefined);
  });
  try {
    return await Promise.race([crm.describeProperties(objectType, { fresh }), givenUp]);
  } catch {
    // Unreachable, refusing the token, answering 5xx: published as before, without a warning.
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
