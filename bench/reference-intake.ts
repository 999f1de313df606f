/**
 * The physical floor for bench/webhooks.ts (issue 18): what intake cannot avoid doing, and nothing
 * else. It checks the v3 signature with the server's own code and stores the batch with one
 * INSERT into a database of the same kind, opened the way the server opens it, before answering.
 * Our intake does more (per-event rows, dedupe, validation of each event, workspace lookup): the
 * ratio says what that costs, and webhooks.ts's header where it goes.
 */
import { sql } from 'drizzle-orm';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { checkV3Signature } from '../server/src/crm/hubspot/webhook-signature.ts';
import { openDatabase } from '../server/src/store/database.ts';

const { databaseUrl, dataDir, secret } = JSON.parse(process.argv[2] ?? '{}') as {
  databaseUrl?: string;
  dataDir?: string;
  secret: string;
};
const { db } = await openDatabase({ databaseUrl, ...(dataDir ? { dataDir } : {}), holder: 'the reference intake' });
await db.execute(
  sql`create table if not exists reference_webhook_batches (id bigserial primary key, received_at timestamptz not null default now(), body jsonb not null)`,
);

const app = express();
app.post('/webhooks/hubspot', express.raw({ type: () => true, limit: 2 * 1024 * 1024 }), async (req, res) => {
  const check = checkV3Signature(
    {
      method: req.method,
      url: `http://${req.headers.host}${req.originalUrl}`,
      rawBody: req.body as Buffer,
      signature: req.get('x-hubspot-signature-v3'),
      timestamp: req.get('x-hubspot-request-timestamp'),
    },
    [secret],
    new Date(),
  );
  if (!check.ok) {
    res.status(401).json({ error: { code: check.code } });
    return;
  }
  await db.execute(
    sql`insert into reference_webhook_batches (body) values (${(req.body as Buffer).toString('utf8')}::jsonb)`,
  );
  res.json({});
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
