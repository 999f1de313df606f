import { z } from 'zod';
import { safeText } from './safe-text.ts';

/**
 * One HubSpot webhook event (developers.hubspot.com/docs/api/webhooks). Fields we do not use
 * are kept (`looseObject`) so the stored payload is what HubSpot sent.
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

/** What the intake answers HubSpot (and an operator reading the logs). */
export interface WebhookIntakeResult {
  received: number;
  stored: number;
  /** Already stored: a retried delivery. */
  duplicates: number;
  /** Events naming a portal no workspace is connected to. */
  unknownPortal: number;
  /** Array elements that are not HubSpot events, with the reason; the rest of the batch is kept. */
  rejected: { index: number; problem: string }[];
}
