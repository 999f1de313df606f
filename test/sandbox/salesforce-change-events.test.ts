import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrmChangeEvent } from '../../shared/crm-change-events.ts';
import { createSalesforceCrm } from '../../server/src/crm/salesforce/adapter.ts';
import { changeStreamOfConnection } from '../../server/src/crm/salesforce/change-events/index.ts';
import {
  SANDBOX_SALESFORCE_CLIENT,
  startSalesforceSandbox,
  type RunningSalesforceSandbox,
} from '../../server/src/sandbox/salesforce/start.ts';
import { INTEGRATION_USERNAME, newId } from '../../server/src/sandbox/salesforce/state.ts';
import { LOOPBACK_ORG_ADDRESSES } from '../support/outbound.ts';

// Issue 20: the local Salesforce feeds its own Pub/Sub endpoint. Our adapter's write (through
// jsforce, tagged with our client id) and a person's edit through the control route arrive through
// the real Pub/Sub client as change events with the header Salesforce would send.
let sandbox: RunningSalesforceSandbox;
beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ port: 0 });
});
afterAll(() => sandbox.close());

describe('the local Salesforce’s change events', () => {
  it('tell our writes (by client id) from a person’s edit (by commit user), with the fields each changed', async () => {
    const auth = { kind: 'client_credentials', ...SANDBOX_SALESFORCE_CLIENT } as const;
    const contact = newId('003', 2);
    const received: CrmChangeEvent[] = [];
    const stream = await changeStreamOfConnection({
      loginUrl: sandbox.url,
      auth,
      addresses: LOOPBACK_ORG_ADDRESSES,
      pubSubEndpoint: sandbox.pubSubEndpoint,
      insecureTls: true,
    })(new Map(), async (batch) => {
      // The seeded records' creations are older: the stream starts at the earliest event kept.
      received.push(...batch.events.filter((event) => event.recordId === contact && event.recordEvent === null));
    });
    try {
      const crm = createSalesforceCrm({ loginUrl: sandbox.url, auth, addresses: LOOPBACK_ORG_ADDRESSES });
      const [written] = await crm.writeBatch({
        objectType: 'salesforce:Contact',
        writes: [{ recordId: contact, properties: { Title: 'CTO' } }],
      });
      expect(written?.ok).toBe(true);
      const edited = await fetch(`${sandbox.url}/_sandbox/edit`, {
        method: 'POST',
        body: JSON.stringify({ object: 'Contact', id: contact, values: { Department: 'R&D' } }),
      });
      expect(edited.status).toBe(200);
      for (let i = 0; received.length < 2; i++) {
        if (i > 400) throw new Error(`only ${received.length} change events arrived`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const integrationUser = [...sandbox.state.users.values()].find((u) => u.username === INTEGRATION_USERNAME)?.id;
      expect(received).toEqual([
        expect.objectContaining({
          objectType: 'salesforce:Contact',
          property: 'Title',
          value: 'CTO',
          source: 'our_app',
          origin: 'com/salesforce/api/rest/67.0;client=AgentGovernance',
          sourceId: integrationUser,
        }),
        expect.objectContaining({
          property: 'Department',
          value: 'R&D',
          source: 'person',
          origin: 'com/salesforce/api/soap/67.0;client=SfdcInternalAPI/',
          sourceId: newId('005', 1),
        }),
      ]);
    } finally {
      stream.close();
    }
  }, 60_000);
});
