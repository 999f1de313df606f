import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_ACCESS_TOKEN } from '../../server/src/sandbox/hubspot/state.ts';
import { SANDBOX_PORTAL_ID } from '../../server/src/sandbox/start-sandbox.ts';
import { openDatabase } from '../../server/src/store/database.ts';
import { createTestDatabase } from '../support/database.ts';
import { allRowCounts } from '../support/row-counts.ts';
import { http, serverEnv, startNodeProcess, urlFromLog, type NodeProcess } from '../e2e/support/processes.ts';
import { fuzzClient, type FuzzCredentials } from './support/fuzz-client.ts';
import { ACCEPTABLE_KINDS, mutate, refusedKinds, seededRandom, type FuzzInput } from './support/fuzz-mutations.ts';
import { hubspotRoutes, routesFromOpenApi, type FuzzRoute } from './support/fuzz-routes.ts';
import { arbitraryFor, type Definitions } from './support/schema-arbitrary.ts';
import { emptyDataFolder, migratedDataFolder } from '../support/data-folders.ts';

/**
 * Issue 17's fuzz drill. The server and the HubSpot sandbox run as their own processes on
 * loopback; every route of /v1/openapi.json, the HubSpot app's routes and the webhook intake get
 * REFUSED_PER_ROUTE requests built to be refused (fast-check values from the route's schema,
 * then broken: NUL, lone surrogates, nesting, __proto__, broken JSON, oversize bodies, other
 * content types, the schema's constraints, ids, queries, credentials) and must answer each with
 * a 4xx, storing no row and calling HubSpot never; then ACCEPTABLE_PER_ROUTE schema-generated
 * requests (with prototype-named keys, odd Unicode, extreme numbers) must draw no 5xx, and the
 * audit chain must still verify. FUZZ_SEED repeats a run.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 17);
const REFUSED_PER_ROUTE = Number(process.env.FUZZ_REFUSED_PER_ROUTE ?? 2_000);
const ACCEPTABLE_PER_ROUTE = Number(process.env.FUZZ_ACCEPTABLE_PER_ROUTE ?? 50);
const MAX_BODY_BYTES = 64 * 1024;
const CONCURRENCY = 16;
const OWNER_USER_ID = '9001';
const run = promisify(execFile);

interface Failure {
  route: string;
  kind: string;
  status: number;
  request: string;
  answer: string;
}

describe('fuzz drill: malformed and hostile requests on every route', () => {
  const sandboxData = emptyDataFolder('ag-fuzz-sandbox-');
  const serverData = migratedDataFolder('ag-fuzz-server-');
  // Postgres when TEST_DATABASE_URL names one (a fresh database, dropped at the end), else PGlite in the server's data folder.
  let postgres: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let sandbox: NodeProcess;
  let server: NodeProcess | undefined;
  let sandboxUrl: string;
  let credentials: FuzzCredentials;
  let routes: FuzzRoute[];
  let definitions: Definitions;

  // With Postgres there is no data folder to keep the secrets key in, so every process is given one.
  const secretsKey = randomBytes(32).toString('base64');
  const env = (extra: Record<string, string> = {}) =>
    serverEnv(serverData.dir, {
      HUBSPOT_API_BASE_URL: sandboxUrl,
      DATABASE_URL: postgres?.url,
      SECRETS_KEY: postgres ? secretsKey : undefined,
      HUBSPOT_CLIENT_SECRET: 'fuzz-app-client-secret',
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      ...extra,
    });
  const startServer = async (extra: Record<string, string> = {}) => {
    await server?.stop();
    server = startNodeProcess('server/src/main.ts', env(extra));
    return urlFromLog(server, 'listening');
  };
  // PGlite lets one process in at a time, so rows are counted while the server is down.
  const rowCounts = async () => {
    if (postgres) return allRowCounts(postgres.db);
    const database = await openDatabase({ dataDir: serverData.dir, holder: 'the fuzz drill' });
    try {
      return await allRowCounts(database.db);
    } finally {
      await database.close();
    }
  };
  const sandboxCalls = async () => (await http('GET', `${sandboxUrl}/_sandbox/calls`)).body.total as number;
  // The checkpoint job signs the chain head on its own schedule (a first checkpoint at start) and
  // keeps each signed checkpoint for SIEM streaming: no request's doing.
  const requestRows = async () => {
    const { audit_checkpoints: _signedOnItsOwn, audit_checkpoint_log: _keptOnItsOwn, ...rows } = await rowCounts();
    return rows;
  };

  beforeAll(async () => {
    if (process.env.TEST_DATABASE_URL) postgres = await createTestDatabase();
    sandbox = startNodeProcess('server/src/sandbox/main.ts', {
      DATA_DIR: sandboxData.dir,
      SANDBOX_PORT: '0',
      SANDBOX_WEBHOOK_URL: undefined,
      SANDBOX_WEBHOOK_SECRET: undefined,
    });
    sandboxUrl = await urlFromLog(sandbox, 'sandbox listening');
    const setup = await run(
      process.execPath,
      [path.resolve('test/e2e/support/setup-workspace.ts'), SANDBOX_PORTAL_ID, FAKE_ACCESS_TOKEN, OWNER_USER_ID],
      { env: { ...process.env, ...env() } as Record<string, string> },
    );
    const tokens = JSON.parse(setup.stdout) as { adminToken: string; agentToken: string };
    credentials = {
      ...tokens,
      portalId: SANDBOX_PORTAL_ID,
      userId: OWNER_USER_ID,
      appId: '4242',
      clientSecret: 'fuzz-app-client-secret',
    };
  });
  afterAll(async () => {
    await server?.stop();
    await sandbox?.stop();
    await postgres?.close();
    sandboxData.remove();
    serverData.remove();
  });

  it('refuses every request built to be refused with a 4xx, storing nothing and calling HubSpot never', async () => {
    const rowsBefore = await requestRows();
    // No jobs: nothing but the fuzzed requests may touch the database or HubSpot meanwhile.
    const url = await startServer({ APPROVAL_JOBS: 'off', WEBHOOK_WORKER: 'off' });
    ({ routes, definitions } = routesFromOpenApi((await http('GET', `${url}/v1/openapi.json`)).body));
    routes.push(...hubspotRoutes());
    const callsBefore = await sandboxCalls();

    const jobs = routes.flatMap((route, index) => {
      const kinds = refusedKinds(route);
      return requestsFor(route, REFUSED_PER_ROUTE, SEED + index, (i) => kinds[i % kinds.length]!);
    });
    const started = performance.now();
    const { failures, statuses } = await fuzz(url, jobs, (status) => status < 400 || status >= 500);
    console.info(
      `fuzz: ${routes.length} routes, ${jobs.length} requests built to be refused in ${Math.round(performance.now() - started)} ms; statuses ${JSON.stringify(statuses)}`,
    );
    const calls = await sandboxCalls();
    await server!.stop();
    expect(firstOfEach(failures)).toEqual([]);
    expect(calls).toBe(callsBefore);
    expect(await requestRows()).toEqual(rowsBefore);
  }, 600_000);

  it('answers schema-generated requests, prototype-named keys and extreme values without a 5xx, and the audit still verifies', async () => {
    const url = await startServer();
    const jobs = routes.flatMap((route, index) =>
      requestsFor(
        route,
        ACCEPTABLE_PER_ROUTE,
        SEED + 1_000 + index,
        (i) => ACCEPTABLE_KINDS[i % ACCEPTABLE_KINDS.length]!,
      ),
    );
    const started = performance.now();
    const { failures, statuses } = await fuzz(url, jobs, (status) => status >= 500);
    console.info(
      `fuzz: ${jobs.length} schema-generated requests in ${Math.round(performance.now() - started)} ms; statuses ${JSON.stringify(statuses)}`,
    );
    expect(firstOfEach(failures)).toEqual([]);
    const verify = await http('GET', `${url}/v1/admin/audit/verify`, { token: credentials.adminToken });
    expect(verify.body).toMatchObject({ ok: true });
  }, 300_000);

  function requestsFor(
    route: FuzzRoute,
    count: number,
    seed: number,
    kindAt: (i: number) => string,
  ): { route: FuzzRoute; input: FuzzInput }[] {
    const sample = <T>(arbitrary: fc.Arbitrary<T>) => fc.sample(arbitrary, { numRuns: count, seed });
    const bodies = route.body
      ? sample(arbitraryFor(route.body, definitions))
      : Array.from({ length: count }, () => undefined);
    const params = Object.entries(route.pathParams).map(
      ([name, schema]) => [name, sample(arbitraryFor(schema, definitions))] as const,
    );
    const queries = route.query ? sample(arbitraryFor(route.query, definitions)) : [];
    const random = seededRandom(seed);
    return bodies.map((body, i) => {
      if (route.caller === 'hubspot_webhook' && Array.isArray(body))
        for (const event of body as { portalId?: number }[])
          if (random() < 0.5) event.portalId = Number(SANDBOX_PORTAL_ID);
      const base = {
        body,
        pathParams: Object.fromEntries(params.map(([name, values]) => [name, encodeURIComponent(String(values[i]))])),
        query: Object.fromEntries(
          Object.entries((queries[i] ?? {}) as Record<string, unknown>).map(([name, value]) => [name, String(value)]),
        ),
      };
      return { route, input: mutate(kindAt(i), base, { route, definitions, maxBodyBytes: MAX_BODY_BYTES, random }) };
    });
  }

  /** One failing request per route, kind and status: the report stays readable when a flaw repeats. */
  function firstOfEach(failures: Failure[]): Failure[] {
    const seen = new Map<string, Failure>();
    for (const failure of failures) {
      const key = `${failure.route} ${failure.kind} ${failure.status}`;
      if (!seen.has(key)) seen.set(key, failure);
    }
    return [...seen.values()];
  }

  async function fuzz(
    url: string,
    jobs: { route: FuzzRoute; input: FuzzInput }[],
    isFailure: (status: number) => boolean,
  ) {
    const client = fuzzClient(url, credentials);
    const failures: Failure[] = [];
    const statuses: Record<number, number> = {};
    try {
      await client.sendAll(jobs, CONCURRENCY, async ({ route, input }) => {
        const response = await client.send(route, input);
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        if (isFailure(response.status))
          failures.push({
            route: `${route.method} ${route.path}`,
            kind: input.kind,
            status: response.status,
            request: JSON.stringify({ ...input, body: input.body?.slice(0, 300) }),
            answer: response.excerpt,
          });
      });
    } finally {
      client.close();
    }
    return { failures, statuses };
  }
});
