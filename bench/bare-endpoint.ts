/** The yardstick for bench/webhooks.ts: Express reading the body and answering 200, nothing else. */
import express from 'express';
import type { AddressInfo } from 'node:net';

const app = express();
app.post('/webhooks/hubspot', express.raw({ type: () => true, limit: 2 * 1024 * 1024 }), (_req, res) => {
  res.json({});
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
