/**
 * The Salesforce bench's org, in a process of its own as Salesforce is: its parsing of our calls
 * and processing of Bulk jobs never share the governance process's thread, and a request we send
 * is received while we go on working. Seeds `contacts` contacts and the bench's fields, listens,
 * and prints one JSON line: `{url, ids, client}`. The bench steers it through the control routes.
 * `node bench/salesforce-org.ts FIELD… --contacts N`.
 */
import { parseArgs } from 'node:util';
import { createSalesforceSandboxServer } from '../server/src/sandbox/salesforce/http-server.ts';
import { addClient, createRecord, createSalesforceSandboxState } from '../server/src/sandbox/salesforce/state.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { contacts: { type: 'string', default: '0' } },
});
const client = { clientId: 'bench', clientSecret: 'bench-secret' };
const state = createSalesforceSandboxState({ apiLimit: 1_000_000 });
addClient(state, client);
const contact = state.objects.get('Contact')!;
for (const name of positionals)
  contact.fields.set(name, { name, label: name, type: 'string', updateable: true, custom: false });
const ids = Array.from({ length: Number(values.contacts) }, (_, i) =>
  createRecord(state, 'Contact', { LastName: `Person ${i}`, Title: `Title ${i}` }, { userId: '', origin: '' }),
);
const sandbox = createSalesforceSandboxServer(state);
const url = await sandbox.listen(0);
process.stdout.write(`${JSON.stringify({ url, ids, client })}\n`);
// Ends with the bench: its end closes our stdin.
process.stdin.resume();
process.stdin.on('end', () => void sandbox.close().finally(() => process.exit(0)));
