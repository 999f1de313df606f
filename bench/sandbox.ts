/**
 * The demo and the sandbox (issue 4): seconds from `npm start` on a fresh data folder to the
 * demo's summary, and the sandbox's own cost per batch call beside a bare node:http and a bare
 * Express handler answering the same bytes, in the same run, so benchmarks that use the sandbox
 * are known to measure the app and not the sandbox. Run alone with `node bench/sandbox.ts`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { FAKE_ACCESS_TOKEN } from '../server/src/sandbox/hubspot/state.ts';
import { startSandbox } from '../server/src/sandbox/start-sandbox.ts';
import { type BenchTable, printTables } from './report.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const STARTS = 3;
const CALLS = 300;

/** Spawns the server as `npm start` does on an empty folder; resolves when the demo summary is on stdout. */
async function secondsToDemoSummary(): Promise<number> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-demo-'));
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  for (const key of ['DATABASE_URL', 'HUBSPOT_API_BASE_URL', 'DEMO', 'DEMO_BATCH']) delete env[key];
  Object.assign(env, { DATA_DIR: dataDir, PORT: '0', SANDBOX_PORT: '0' });
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'server/src/main.ts')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    return await new Promise<number>((resolve, reject) => {
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('refused:')) resolve((performance.now() - started) / 1000);
      });
      child.once('exit', (code) =>
        reject(new Error(`npm start exited with ${code} before the summary:\n${stdout}\n${stderr}`)),
      );
    });
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// The two calls the app makes per 100 records: a batch read with history, and a batch update.
// They touch different records: repeated updates would grow the read records' history to
// HubSpot's 45 revisions and the bench would measure JSON size, not the sandbox.
function batchCalls() {
  const ids = (from: number) => Array.from({ length: 100 }, (_, i) => String(from + i));
  return [
    {
      path: '/crm/v3/objects/contacts/batch/read',
      body: {
        inputs: ids(1001).map((id) => ({ id })),
        properties: [
          'jobtitle',
          'company',
          'industry',
          'city',
          'country',
          'numemployees',
          'phone',
          'lifecyclestage',
          'hubspot_owner_id',
          'email',
        ],
        propertiesWithHistory: ['jobtitle', 'city'],
      },
    },
    {
      path: '/crm/v3/objects/contacts/batch/update',
      body: { inputs: ids(1101).map((id, i) => ({ id, properties: { jobtitle: `Engineer ${i}`, city: 'Paris' } })) },
    },
  ];
}

async function meanCallMs(baseUrl: string, calls: ReturnType<typeof batchCalls>): Promise<number> {
  const send = (call: (typeof calls)[number]) =>
    fetch(`${baseUrl}${call.path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${FAKE_ACCESS_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(call.body),
    }).then((r) => r.text());
  for (let i = 0; i < 50; i += 1) await send(calls[i % calls.length]!); // warm-up: JIT and keep-alive sockets
  const started = performance.now();
  for (let i = 0; i < CALLS; i += 1) await send(calls[i % calls.length]!);
  return (performance.now() - started) / CALLS;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Bare handlers that read and parse the body as the sandbox does, then answer the sandbox's own bytes for that route. */
async function bareServers(answers: Map<string, string>) {
  const node = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end(answers.get(req.url ?? '') ?? '{}');
    });
  });
  const app = express();
  app.use(express.json({ limit: '16mb' }));
  app.post('/{*path}', (req, res) => {
    res.type('application/json').send(answers.get(req.path) ?? '{}');
  });
  const expressServer = createServer(app);
  return {
    nodeUrl: await listen(node),
    expressUrl: await listen(expressServer),
    close: () => Promise.all([node, expressServer].map((s) => new Promise((resolve) => s.close(resolve)))),
  };
}

export async function benchSandbox(): Promise<BenchTable[]> {
  const starts: number[] = [];
  for (let i = 0; i < STARTS; i += 1) starts.push(await secondsToDemoSummary());
  const startTable: BenchTable = {
    title: `npm start on a fresh data folder → demo summary printed (median of ${STARTS} starts; goal < 10 s):`,
    rows: [{ 'seconds to demo summary': [...starts].sort((a, b) => a - b)[Math.floor(STARTS / 2)]!.toFixed(2) }],
  };

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-sandbox-'));
  const inMemory = await startSandbox({ dataDir: undefined, port: 0 });
  const persisted = await startSandbox({ dataDir, port: 0 });
  const calls = batchCalls();
  await meanCallMs(inMemory.url, calls); // the updated records' history reaches its cap before the bare servers' answers are taken
  const answers = new Map<string, string>();
  for (const call of calls) {
    const response = await fetch(`${inMemory.url}${call.path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${FAKE_ACCESS_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(call.body),
    });
    answers.set(call.path, await response.text());
  }
  const bare = await bareServers(answers);
  // Interleaved rounds, so drift on a shared machine lands on every server alike.
  const totals = { node: 0, express: 0, memory: 0, file: 0 };
  for (let round = 0; round < 3; round += 1) {
    totals.node += await meanCallMs(bare.nodeUrl, calls);
    totals.express += await meanCallMs(bare.expressUrl, calls);
    totals.memory += await meanCallMs(inMemory.url, calls);
    totals.file += await meanCallMs(persisted.url, calls);
  }
  const ms = (total: number) => total / 3;
  const callTable: BenchTable = {
    title: `Batch call of 100 contacts (read with history / update, alternating), mean of ${3 * CALLS} sequential calls each:`,
    rows: [
      {
        server: 'bare node:http (parse body, canned answer)',
        'ms per call': ms(totals.node).toFixed(3),
        'ratio to bare node:http': '1.00',
        'ratio to bare Express': (totals.node / totals.express).toFixed(2),
      },
      {
        server: 'bare Express (express.json, canned answer)',
        'ms per call': ms(totals.express).toFixed(3),
        'ratio to bare node:http': (totals.express / totals.node).toFixed(2),
        'ratio to bare Express': '1.00',
      },
      {
        server: 'sandbox, in memory (what bench/run.ts uses)',
        'ms per call': ms(totals.memory).toFixed(3),
        'ratio to bare node:http': (totals.memory / totals.node).toFixed(2),
        'ratio to bare Express': (totals.memory / totals.express).toFixed(2),
      },
      {
        server: 'sandbox, saved to DATA_DIR (demo mode)',
        'ms per call': ms(totals.file).toFixed(3),
        'ratio to bare node:http': (totals.file / totals.node).toFixed(2),
        'ratio to bare Express': (totals.file / totals.express).toFixed(2),
      },
    ],
  };
  await bare.close();
  await inMemory.close();
  await persisted.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  return [startTable, callTable];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) printTables(await benchSandbox());
