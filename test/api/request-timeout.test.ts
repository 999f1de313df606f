import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.ts';
import { rawExchange } from '../support/raw-http.ts';

let harness: Harness;

beforeEach(async () => {
  harness = await startHarness({ requestTimeoutMs: 1_000 });
});
afterEach(() => harness.close());

describe('a request that stops arriving (REQUEST_TIMEOUT_MS)', () => {
  it('is answered 408 with a JSON error a person can read, and its socket freed, once the timeout has passed', async () => {
    const started = Date.now();
    // Ten bytes of the hundred the headers promise, then nothing: Node's own default held such a socket five minutes.
    const answer = await rawExchange(
      harness.url,
      'POST /v1/changesets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"batchId"',
      { end: false },
    );
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1.1 408 /);
    expect(JSON.parse(body!)).toMatchObject({
      error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/did not arrive in full in time/) },
    });
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
