/**
 * A local OTLP/HTTP logs receiver for the streaming benchmark (issue 22), in its own process as a
 * collector would be: parses each request as a collector must, counts the log records, checks each
 * event's audit.seq follows the last (signed checkpoints are skipped), and answers GET /count. Prints its URL as its first line.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface OtlpLogs {
  resourceLogs: {
    scopeLogs: {
      logRecords: { eventName: string; attributes: { key: string; value: { intValue?: string } }[] }[];
    }[];
  }[];
}

let records = 0;
let requests = 0;
let lastSeq = 0;
let outOfOrder = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ records, requests, lastSeq, outOfOrder }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const logs = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpLogs;
    requests += 1;
    for (const resource of logs.resourceLogs)
      for (const scope of resource.scopeLogs)
        for (const record of scope.logRecords) {
          // A signed checkpoint follows the event it signs, with that event's seq: not an event of its own.
          if (record.eventName === 'audit.checkpoint') continue;
          const seq = Number(record.attributes.find((attribute) => attribute.key === 'audit.seq')?.value.intValue);
          if (seq !== lastSeq + 1) outOfOrder += 1;
          lastSeq = Math.max(lastSeq, seq);
          records += 1;
        }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
