import { z } from 'zod';

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
  subscriptionType: z.string().min(1).max(200),
  attemptNumber: z.number().int().nonnegative().optional(),
  objectId: z.number().int().nonnegative(),
  objectTypeId: z.string().optional(),
  changeSource: z.string().max(200).optional(),
  sourceId: z.string().max(500).optional(),
  propertyName: z.string().max(200).optional(),
  propertyValue: z.string().optional(),
  // contact.merge / deal.merge
  primaryObjectId: z.number().int().optional(),
  mergedObjectIds: z.array(z.number().int()).optional(),
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
