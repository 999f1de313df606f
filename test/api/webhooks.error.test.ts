import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.ts';
import { deliver, propertyChange, seedWebhookWorkspace, storedEventCount } from '../support/webhooks.ts';

describe('POST /webhooks/hubspot, bodies that are not HubSpot events', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ webhooks: { appClientSecret: 'app-secret' } });
  });
  afterAll(() => harness.close());

  it('refuses malformed JSON that is correctly signed with 400 MALFORMED_JSON and stores nothing', async () => {
    const response = await deliver(harness, undefined, { clientSecret: 'app-secret', body: '[{"eventId": 1,' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: { code: 'MALFORMED_JSON' } });
    expect(await storedEventCount(harness.deps.db)).toBe(0);
  });

  it('refuses a signed body that is an object rather than an array with 400 VALIDATION_FAILED', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const response = await deliver(harness, propertyChange(ws.portalId), { clientSecret: 'app-secret' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('array') },
    });
    expect(await storedEventCount(harness.deps.db)).toBe(0);
  });

  it('refuses a body over the size limit with 413 before reading it', async () => {
    const ws = await seedWebhookWorkspace(harness);
    const huge = [propertyChange(ws.portalId, { propertyValue: 'x'.repeat(3 * 1024 * 1024) })];
    const response = await deliver(harness, huge, { clientSecret: 'app-secret' });
    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
    expect(await storedEventCount(harness.deps.db)).toBe(0);
  });
});
