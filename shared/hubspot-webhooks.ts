import { z } from 'zod';
import { isSafeText, safeText } from './safe-text.ts';

/**
 * One HubSpot webhook event (developers.hubspot.com/docs/api/webhooks). Fields we do not use
 * are kept (`looseObject`) so the stored payload is what HubSpot sent. `isCommonHubSpotEvent`
 * below checks the same fields by hand: change both (test/webhooks/intake-validation.test.ts).
 */
export const hubspotWebhookEventSchema = z.looseObject({
  eventId: z.number().int().nonnegative(),
  subscriptionId: z.number().int().optional(),
  portalId: z.number().int().positive(),
  appId: z.number().int().optional(),
  occurredAt: z.number().int().positive(),
  subscriptionType: safeText.min(1).max(200),
  attemptNumber: z.number().int().nonnegative().optional(),
  objectId: z.number().int().nonnegative(),
  objectTypeId: safeText.max(100).optional(),
  changeSource: safeText.max(200).optional(),
  sourceId: safeText.max(500).optional(),
  propertyName: safeText.max(200).optional(),
  propertyValue: safeText.max(65_536).optional(),
  // contact.merge / deal.merge
  primaryObjectId: z.number().int().optional(),
  mergedObjectIds: z.array(z.number().int()).max(1_000).optional(),
  newObjectId: z.number().int().optional(),
});
export type HubSpotWebhookEvent = z.infer<typeof hubspotWebhookEventSchema>;

type FieldCheck = (value: unknown) => boolean;
const int: FieldCheck = (value) => Number.isSafeInteger(value);
const nonNegativeInt: FieldCheck = (value) => Number.isSafeInteger(value) && (value as number) >= 0;
const positiveInt: FieldCheck = (value) => Number.isSafeInteger(value) && (value as number) > 0;
const textOf =
  (min: number, max: number): FieldCheck =>
  (value) =>
    typeof value === 'string' && value.length >= min && value.length <= max && isSafeText(value);
const intsOf =
  (max: number): FieldCheck =>
  (value) => {
    if (!Array.isArray(value) || value.length > max) return false;
    for (let index = 0; index < value.length; index += 1) if (!Number.isSafeInteger(value[index])) return false;
    return true;
  };

/** The schema's fields as plain checks, each with whether it is required; the type makes every field listed. */
const EVENT_FIELDS: { [Field in keyof typeof hubspotWebhookEventSchema.shape]: readonly [FieldCheck, boolean] } = {
  eventId: [nonNegativeInt, true],
  subscriptionId: [int, false],
  portalId: [positiveInt, true],
  appId: [int, false],
  occurredAt: [positiveInt, true],
  subscriptionType: [textOf(1, 200), true],
  attemptNumber: [nonNegativeInt, false],
  objectId: [nonNegativeInt, true],
  objectTypeId: [textOf(0, 100), false],
  changeSource: [textOf(0, 200), false],
  sourceId: [textOf(0, 500), false],
  propertyName: [textOf(0, 200), false],
  propertyValue: [textOf(0, 65_536), false],
  primaryObjectId: [int, false],
  mergedObjectIds: [intsOf(1_000), false],
  newObjectId: [int, false],
};
const fieldChecks = new Map<string, readonly [FieldCheck, boolean]>(Object.entries(EVENT_FIELDS));
const requiredFields = Object.values(EVENT_FIELDS).filter(([, required]) => required).length;

/**
 * The schema's verdict on HubSpot's usual events, in one cheap pass (issue 18: zod per event and
 * the safe-text walk over the body were most of the intake's CPU). True only when
 * `hubspotWebhookEventSchema` accepts `value` (a value JSON.parse made) and `findJsonProblem` finds
 * nothing in it: fields beyond the schema's may hold safe text, numbers, booleans and null. False
 * means "ask the schema", never a verdict of its own, so the schema stays the contract and its
 * messages are the ones senders read.
 */
export function isCommonHubSpotEvent(value: unknown): value is HubSpotWebhookEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let required = 0;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    const field = fieldChecks.get(key);
    if (field) {
      if (!field[0](item)) return false;
      if (field[1]) required += 1;
    } else if (
      key === '__proto__' ||
      !isSafeText(key) ||
      (typeof item === 'object' && item !== null) ||
      (typeof item === 'string' && !isSafeText(item))
    )
      return false;
  }
  return required === requiredFields;
}

/** What the intake answers HubSpot (and an operator reading the logs). */
export interface WebhookIntakeResult {
  received: number;
  /** Events kept to process; one an earlier delivery stored (HubSpot retried) is dropped when split, so each is stored and processed once. */
  stored: number;
  /** Events repeated within this delivery, stored once. */
  duplicates: number;
  /** Events naming a portal no workspace is connected to. */
  unknownPortal: number;
  /** Array elements that are not HubSpot events, with the reason; the rest of the batch is kept. */
  rejected: { index: number; problem: string }[];
}
